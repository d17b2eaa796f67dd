import { Injectable, Logger } from '@nestjs/common';
import { DeadlockException, LockWaitTimeoutException } from '@mikro-orm/core';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { RunAbort, workerContext, type Claimed, type RunWorkerHandle } from './run-execution.js';
import { Run } from './run.entity.js';

const TRANSIENT_RETRIES = 3;

/**
 * Runs a worker transaction, again when the database broke it off as a deadlock victim (or a lock wait timed
 * out): the transaction rolled back as a whole, so running it again is safe. Worker transactions meet every
 * other writer of the company on the audit chain head, so an occasional deadlock is expected under load.
 */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const transient = e instanceof DeadlockException || e instanceof LockWaitTimeoutException;
      if (!transient || attempt >= TRANSIENT_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
    }
  }
}

/**
 * Owns the worker's access to a run's data: every piece of it runs in the run's own company, each transaction
 * is retried when it was a deadlock victim, and a write happens only while this claim still holds its lease
 * (status `running`, `leaseOwner` = the claim), which it also renews while the run executes.
 */
@Injectable()
export class RunLeases {
  // The engine's name, as before these pieces were split out of it: its log lines read the same.
  private readonly logger = new Logger('RunEngine');

  constructor(private readonly tenancy: TenancyService) {}

  inTenant<T>(companyId: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.tenancy.run(workerContext(companyId), fn);
  }

  /** One worker transaction in the run's company, retried when it was a deadlock victim. */
  transaction<T>(companyId: string, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return retryTransient(() => this.inTenant(companyId, (em) => em.transactional(fn)));
  }

  /** Runs `fn` on the run, locked, if this claim still holds its lease; otherwise returns `lost`. */
  held<T>(claimed: Claimed, fn: (tx: EntityManager, run: Run) => Promise<T>): Promise<T | 'lost'> {
    return this.transaction(claimed.companyId, async (tx) => {
      const run = await tx.findOne(
        Run,
        { id: claimed.runId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!run || run.status !== 'running' || run.leaseOwner !== claimed.lease) return 'lost';
      return fn(tx, run);
    });
  }

  /**
   * Extends the lease while the run executes; aborts the in-flight call when the lease is gone, or when a
   * cancellation was requested from another process.
   */
  async renew(claimed: Claimed, worker: RunWorkerHandle, controller: AbortController) {
    try {
      const state = await this.held(claimed, async (_tx, run) => {
        run.leaseExpiresAt = new Date(Date.now() + worker.settings.leaseMs);
        return run.cancelRequestedAt ? 'cancel' : 'ok';
      });
      if (state === 'lost') controller.abort(new RunAbort('lease_lost'));
      else if (state === 'cancel') controller.abort(new RunAbort('cancelled'));
    } catch (e) {
      // A renewal that could not run says nothing about the lease; the next one tries again.
      this.logger.warn(`lease renewal of run ${claimed.runId} failed: ${(e as Error).message}`);
    }
  }
}
