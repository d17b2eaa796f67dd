import { Errors } from '../common/errors/app-error.js';

interface Lane {
  active: number;
  waiting: (() => void)[];
}

/** The provider token of the process's one gate. */
export const WRITE_GATE = Symbol('WRITE_GATE');

/** Gate occupancy across companies, for `/health/ready` and the logs. */
export interface WriteGateOccupancy {
  /** Companies with a write running or waiting. */
  companies: number;
  /** Slots in use, all companies together. */
  active: number;
  /** Requests waiting for a slot, all companies together. */
  waiting: number;
  /** Slots per company. */
  perCompany: number;
}

/**
 * Admission control for writes, per company. A company's writes serialise on its audit chain head; if one
 * company ran more concurrent write transactions than the connection pool holds, its waiters would hold every
 * connection while queueing for that lock, and other companies would wait for a connection. Letting at most
 * `perCompany` mutating requests of one company run at once (the rest wait here, in memory, holding no
 * connection) keeps the rest of the pool for everyone else. A company whose queue is full gets a 429.
 */
export class CompanyWriteGate {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    readonly perCompany: number,
    private readonly maxWaiting = 200,
  ) {}

  /**
   * Resolves with a release function once the company has a free slot. When `signal` aborts while waiting (the
   * client gave up), the waiter leaves the queue and the promise rejects: a slot is never handed to a request
   * that has already ended.
   */
  async acquire(companyId: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    let lane = this.lanes.get(companyId);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(companyId, lane);
    }
    if (lane.active >= this.perCompany) {
      if (lane.waiting.length >= this.maxWaiting) {
        throw Errors.rateLimited(1, 'Too many concurrent changes for this company; retry shortly');
      }
      const current = lane;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = current.waiting.indexOf(admit);
          if (at >= 0) current.waiting.splice(at, 1);
          if (current.active === 0 && current.waiting.length === 0) this.lanes.delete(companyId);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('Aborted'));
        };
        const admit = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        current.waiting.push(admit);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      lane.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(companyId);
    };
  }

  /** Slots in use and requests waiting, per company (for tests and diagnostics). */
  load(companyId: string): { active: number; waiting: number } {
    const lane = this.lanes.get(companyId);
    return { active: lane?.active ?? 0, waiting: lane?.waiting.length ?? 0 };
  }

  /** Occupancy over all companies. */
  occupancy(): WriteGateOccupancy {
    let active = 0;
    let waiting = 0;
    for (const lane of this.lanes.values()) {
      active += lane.active;
      waiting += lane.waiting.length;
    }
    return { companies: this.lanes.size, active, waiting, perCompany: this.perCompany };
  }

  private release(companyId: string): void {
    const lane = this.lanes.get(companyId);
    if (!lane) return;
    const next = lane.waiting.shift();
    if (next) {
      next(); // the slot passes directly to the next waiter
      return;
    }
    lane.active--;
    if (lane.active === 0) this.lanes.delete(companyId);
  }
}
