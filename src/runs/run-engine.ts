import { Injectable } from '@nestjs/common';
import { LockMode } from '@mikro-orm/postgresql';
import { backoffDelayMs } from '../common/backoff.js';
import { newId } from '../common/ids.js';
import { RunClaims } from './run-claims.js';
import { RunConnectorCall, type CallOutcome } from './run-connector-call.js';
import {
  RunAbort,
  type CallAction,
  type Claimed,
  type NextAction,
  type RunWorkerHandle,
} from './run-execution.js';
import { RunLeases } from './run-leases.js';
import type { RunJob } from './run-queue.schema.js';
import { RunStepper } from './run-stepper.js';
import { RunTransitions } from './run-transitions.js';
import { Run } from './run.entity.js';

/** The generic reason of a run failed by `RunEngine.failStuck` (the cause is in the worker's logs). */
export const STUCK_RUN_REASON =
  'The run could not be executed: handling it failed repeatedly with a server fault (logged for the administrators)';

/** The id of the step a run stands on, read defensively (for a run whose stored definition may be damaged). */
function standingStepId(run: Run): string | null {
  const steps: unknown = (run.definition as { steps?: unknown } | null | undefined)?.steps;
  const step: unknown = Array.isArray(steps) ? steps[run.currentStepIndex] : undefined;
  const id = (step as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Executes runs, one job at a time: claims the run within its company's cap, then walks its steps from
 * `currentStepIndex`. Every transition is its own short transaction holding the run's row lock, and every write
 * first checks that this worker still holds the lease (status `running`, `leaseOwner` = this worker): a worker
 * that lost its lease stops without writing anything more. Tool calls happen outside any transaction.
 *
 * The engine owns the job's course (claim, the loop of steps, backoff, the stuck-run exit); the lease and the
 * worker's transactions are {@link RunLeases}', the step logic {@link RunStepper}'s, the call {@link RunConnectorCall}'s.
 */
@Injectable()
export class RunEngine {
  constructor(
    private readonly claims: RunClaims,
    private readonly transitions: RunTransitions,
    private readonly leases: RunLeases,
    private readonly stepper: RunStepper,
    private readonly connector: RunConnectorCall,
  ) {}

  /**
   * Handles one job `{ companyId, runId }`, always inside the job's own company. Idempotent: a job for a run
   * that is parked, finished or gone does nothing, so duplicates and re-deliveries are harmless.
   *
   * This is also how a run whose worker died is recovered, without any cross-company scan: its job stays
   * active while the run executes and is heart-beaten by the worker; when the worker dies, pg-boss fails the
   * job and delivers it again, and the claim below finds the run `running` under an expired lease and recovers
   * it (or, while the lease is still live, sends the job again for the moment it expires).
   */
  async process(job: RunJob, worker: RunWorkerHandle): Promise<void> {
    const claimed = await this.claim(job, worker);
    if (!claimed || claimed.next.kind === 'stop') return;
    if ((await this.execute(claimed, worker, claimed.next)) === 'abandoned') {
      // A stopping worker gave up on a call in flight: its outcome is unknown. Recover the run now (the attempt
      // is marked interrupted and the retry recorded), exactly as a redelivered job would once the lease expired.
      await this.leases.held(claimed, (tx, run) => this.transitions.recover(tx, run, { enqueue: true }));
    }
  }

  /**
   * Ends a run whose job keeps failing with an unexpected error (a bug, a value the database refuses): it is
   * failed with a generic reason (the cause is logged), its step too, and its audit event is written in the same
   * transaction. A run that is parked, finished, or held by a worker under a live lease is left alone (its own
   * path handles it), as is one that is gone. Returns whether it failed the run.
   */
  async failStuck(job: RunJob): Promise<boolean> {
    return this.leases.transaction(job.companyId, async (tx) => {
      const run = await tx.findOne(
        Run,
        { id: job.runId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!run || run.isFinal || run.status === 'parked') return false;
      if (run.status === 'running' && run.leaseExpiresAt && run.leaseExpiresAt.getTime() > Date.now()) {
        return false;
      }
      const stepId = standingStepId(run);
      const row = stepId === null ? null : await this.transitions.stepRow(tx, run);
      if (row && ['running', 'retrying', 'interrupted', 'waiting'].includes(row.status)) {
        row.status = 'failed';
        row.finishedAt = new Date();
        row.error = { reason: 'internal', message: STUCK_RUN_REASON };
      }
      await this.transitions.fail(tx, run, STUCK_RUN_REASON, stepId);
      return true;
    });
  }

  /**
   * The exact cap: under the company's advisory lock, a queued run becomes `running` only while fewer than
   * `maxConcurrentRuns` of the company's runs are. Otherwise the job is sent again a moment later (in the same
   * transaction) and this one ends; nothing of the run changes, so its retry budget is untouched. A `running`
   * run whose lease expired (its worker died) is recovered first, then claimed like a queued one.
   */
  async claim(job: RunJob, worker: RunWorkerHandle): Promise<(Claimed & { next: NextAction }) | null> {
    return this.leases.transaction(job.companyId, async (tx) => {
      await this.claims.lockCompany(tx, job.companyId);
      const run = await tx.findOne(
        Run,
        { id: job.runId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!run) return null;
      if (run.status === 'running') {
        if (run.leaseExpiresAt && run.leaseExpiresAt.getTime() > Date.now()) {
          // Redelivered while the lease is live (its worker may be stalled, not dead): look again when the
          // lease runs out. A live worker keeps renewing it, and then this chain ends once the run does.
          const jitter = Math.floor(Math.random() * worker.settings.deferMs);
          await this.transitions.enqueue(tx, run, new Date(run.leaseExpiresAt.getTime() + jitter));
          return null;
        }
        await this.transitions.recover(tx, run, { enqueue: false });
        await tx.flush();
      }
      if (run.status !== 'queued') return null;
      const company = await this.transitions.company(tx, job.companyId);
      if ((await this.claims.countRunning(tx)) >= company.maxConcurrentRuns) {
        const jitter = Math.floor(Math.random() * worker.settings.deferMs);
        await this.transitions.enqueue(tx, run, new Date(Date.now() + worker.settings.deferMs + jitter));
        return null;
      }
      const lease = `${worker.instanceId}#${newId().slice(-8)}`;
      await this.transitions.claim(tx, run, lease, worker.settings.leaseMs);
      // The first decision (start an attempt, park, …) commits with the claim.
      return {
        companyId: job.companyId,
        runId: run.id,
        lease,
        next: await this.stepper.decide(tx, run, worker),
      };
    });
  }

  /**
   * Walks the steps from `first` (decided when the run was claimed) until the run parks, ends, is cancelled,
   * is handed back, or the lease is lost. Each outcome is recorded together with the decision that follows it.
   */
  async execute(claimed: Claimed, worker: RunWorkerHandle, first: NextAction): Promise<'done' | 'abandoned'> {
    const controller = new AbortController();
    worker.track(claimed.runId, controller);
    const renewEvery = Math.max(50, Math.floor(worker.settings.leaseMs / 3));
    let renewing: Promise<void> | undefined;
    const renewal = setInterval(() => {
      renewing ??= this.leases.renew(claimed, worker, controller).finally(() => {
        renewing = undefined;
      });
    }, renewEvery);
    const abandoned = (): boolean => {
      const reason: unknown = controller.signal.reason;
      return reason instanceof RunAbort && reason.why === 'worker_stopped';
    };
    try {
      let next = first;
      for (;;) {
        if (next.kind === 'stop') return abandoned() ? 'abandoned' : 'done';
        if (next.kind === 'retry') {
          const backoff = backoffDelayMs(
            { firstMs: worker.settings.backoffBaseMs, maxMs: worker.settings.backoffMaxMs },
            next.attempt,
          );
          await sleep(backoff, controller.signal);
          const reason: unknown = controller.signal.reason;
          if (reason instanceof RunAbort && reason.why !== 'cancelled')
            return abandoned() ? 'abandoned' : 'done';
          next = await this.nextAction(claimed, worker);
          continue;
        }
        const outcome = await this.connector.call(claimed, next, controller.signal);
        next = await this.recordOutcome(claimed, worker, next, outcome);
      }
    } finally {
      clearInterval(renewal);
      await renewing;
      worker.untrack(claimed.runId);
    }
  }

  /** Decides what comes next in a transaction of its own (after a backoff). */
  private async nextAction(claimed: Claimed, worker: RunWorkerHandle): Promise<NextAction> {
    const next = await this.leases.held(claimed, (tx, run) => this.stepper.decide(tx, run, worker));
    return next === 'lost' ? { kind: 'stop' } : next;
  }

  /**
   * Records the attempt's outcome and, in the same transaction, decides what follows: the next attempt after a
   * backoff, the next step, or the end.
   */
  private async recordOutcome(
    claimed: Claimed,
    worker: RunWorkerHandle,
    next: CallAction,
    outcome: CallOutcome,
  ): Promise<NextAction> {
    const stop: NextAction = { kind: 'stop' };
    if (outcome.kind === 'aborted' && outcome.why !== 'cancelled') return stop;
    const after = await this.leases.held(claimed, (tx, run) =>
      this.stepper.record(tx, run, worker, next, outcome),
    );
    return after === 'lost' ? stop : after;
  }
}
