import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../audit/audit-actions.js';
import { bucketOf, emptyHistogram, histogramLiteral } from '../common/duration-histogram.js';
import { newId } from '../common/ids.js';
import type { Run } from '../runs/run.entity.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { ANALYTICS_STATEMENTS } from '../tenancy/statements/analytics.js';

const QUARTER_HOUR_MS = 15 * 60_000;

/** The UTC quarter-hour a moment falls in (the rollups' bucket). */
export function quarterOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS);
}

interface RunDelta {
  at: Date;
  started?: number;
  succeeded?: number;
  failed?: number;
  rejected?: number;
  cancelled?: number;
  parkedIn?: number;
  parkedOut?: number;
  durationMs?: number;
  waitMs?: number;
}

const FINAL: Partial<Record<AuditAction, 'succeeded' | 'failed' | 'rejected' | 'cancelled'>> = {
  'run.succeeded': 'succeeded',
  'run.failed': 'failed',
  'run.rejected': 'rejected',
  'run.cancelled': 'cancelled',
};

function histogramWith(ms: number | undefined): string {
  const h = emptyHistogram();
  if (ms !== undefined) h[bucketOf(ms)] = 1;
  return histogramLiteral(h);
}

/**
 * Keeps the analytics rollups as runs change, in the transaction of each transition (called by `RunTransitions`
 * and `RunStepper`, after the transition's audit event: every writer of a company's rollup rows then already holds
 * its audit chain head, so rollup rows are always locked in the same order). Stateless; the statements are in
 * src/tenancy/statements/analytics.ts.
 *
 * Only transitions that happen once per run count: its start, its final status, and each park and unpark of an
 * approval step. Claims, hand-backs, retries and recoveries count nothing, so a run that is retried or recovered
 * after a crash is still counted once.
 */
export class RunRollups {
  /**
   * Counts a run's transition. `parkedSince` is when the run parked, if it was parked before this transition (a
   * verdict, or a cancel of a parked run, takes it off the parked gauge and, for a verdict, adds its wait).
   */
  async onTransition(
    tx: EntityManager,
    action: AuditAction,
    run: Run,
    parkedSince: Date | null,
    now = new Date(),
  ): Promise<void> {
    const final = FINAL[action];
    if (action === 'run.started') {
      await this.add(tx, run, { at: run.createdAt, started: 1 });
    } else if (action === 'run.parked' && run.parkedSince) {
      await this.add(tx, run, { at: run.parkedSince, parkedIn: 1 });
    } else if (action === 'run.verdict_given' && parkedSince) {
      await this.add(tx, run, { at: now, parkedOut: 1, waitMs: now.getTime() - parkedSince.getTime() });
    } else if (final) {
      const at = run.finishedAt ?? now;
      await this.add(tx, run, {
        at,
        [final]: 1,
        durationMs: at.getTime() - run.createdAt.getTime(),
        ...(final === 'cancelled' && parkedSince ? { parkedOut: 1 } : {}),
      });
    }
  }

  /** Counts one connector call (its outcome recorded on its step): what it took, and its error's reason. */
  async onConnectorCall(
    tx: EntityManager,
    toolId: string,
    durationMs: number,
    errorReason: string | null,
    at = new Date(),
  ): Promise<void> {
    await scoped(tx, ANALYTICS_STATEMENTS.addConnectorCall, [
      newId(),
      quarterOf(at).toISOString(),
      toolId,
      errorReason,
      histogramWith(durationMs),
    ]);
  }

  /**
   * Adds the delta to the run's template rows and to the company's all-templates rows of its quarter-hour, hour
   * and day: one statement.
   */
  private async add(tx: EntityManager, run: Run, d: RunDelta): Promise<void> {
    await scoped(tx, ANALYTICS_STATEMENTS.addRunRollup, [
      d.at.toISOString(),
      run.templateRefId,
      run.source,
      run.templateKey,
      run.templateName,
      d.started ?? 0,
      d.succeeded ?? 0,
      d.failed ?? 0,
      d.rejected ?? 0,
      d.cancelled ?? 0,
      d.parkedIn ?? 0,
      d.parkedOut ?? 0,
      histogramWith(d.durationMs),
      histogramWith(d.waitMs),
    ]);
  }
}
