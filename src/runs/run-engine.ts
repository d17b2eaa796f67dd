import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeadlockException, LockWaitTimeoutException } from '@mikro-orm/core';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import {
  CONNECTOR_INVOKER,
  ToolCallError,
  type ConnectorInvoker,
  type ToolResult,
} from '../connectors/connector-invoker.js';
import { SecretUnavailableError } from '../connectors/keyring.service.js';
import { backoffDelayMs } from '../common/backoff.js';
import type { Hit, DlpScope } from '../dlp/dlp-scan.js';
import { DlpService } from '../dlp/dlp.service.js';
import { newId } from '../common/ids.js';
import { scrubNul, withoutNul } from '../common/nul.js';
import { interpolate, type JsonValue, type ToolStep } from '../templates/definition.js';
import { systemContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { RunClaims } from './run-claims.js';
import type { RunJob } from './run-queue.schema.js';
import { RunStep } from './run-step.entity.js';
import { maxAttempts, RunTransitions, stepOutputs } from './run-transitions.js';
import { Run } from './run.entity.js';

/** What a worker lends the engine while it executes a run. */
export interface RunWorkerHandle {
  /** Identifies the worker in the lease of the runs it claims (`<instanceId>#<claim>`). */
  readonly instanceId: string;
  readonly settings: RunExecutionSettings;
  /** True once the worker is shutting down: runs are handed back between steps. */
  readonly stopping: boolean;
  /** Registers the controller that aborts the run's in-flight call (cancel, lost lease, forced stop). */
  track(runId: string, controller: AbortController): void;
  untrack(runId: string): void;
}

export interface RunExecutionSettings {
  /** How long a claim holds without renewal; renewed every third of it while the run executes. */
  leaseMs: number;
  /** How long a job waits when the company's cap is full. */
  deferMs: number;
  /** Backoff between attempts of a tool step: base × 2^(attempt − 1), capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * How long a run waits, handed back to the queue, when its connector's secret cannot be decrypted for a
   * reason that can pass (this process holds another master key than the one in use); default 60 s.
   */
  unavailableRetryMs?: number;
}

export const DEFAULT_UNAVAILABLE_RETRY_MS = 60_000;

/** Why an in-flight call was abandoned. */
export class RunAbort extends Error {
  constructor(readonly why: 'cancelled' | 'lease_lost' | 'worker_stopped') {
    super(`run execution aborted: ${why}`);
    this.name = 'RunAbort';
  }
}

/** The tenant context of background work: the system principal of the run's own company. */
export function workerContext(companyId: string): TenantContext {
  return systemContext(companyId, 'worker', 'owner');
}

interface Claimed {
  companyId: string;
  runId: string;
  /**
   * This claim's lease token (`leaseOwner`): the worker's id plus a fresh suffix, so that even the same worker
   * claiming a run again (after its own lease expired) fences out its earlier execution.
   */
  lease: string;
}

type CallAction = { kind: 'call'; step: ToolStep; stepIndex: number; attempt: number; input: JsonValue };
/** What the loop does next: call the connector, wait and try the step again, or stop (parked, ended, lost). */
type NextAction = { kind: 'stop' } | CallAction | { kind: 'retry'; attempt: number };

/** What DLP found in a call's payload or answer (written with the outcome, in its transaction). */
interface DlpFound {
  scope: DlpScope;
  hits: Hit[];
}

type CallOutcome =
  | { kind: 'ok'; result: ToolResult; ms: number; dlp: DlpFound[] }
  /** DLP refused the step's payload (never sent: no `ms`) or the connector's answer (not stored). */
  | { kind: 'dlp_blocked'; blocked: DlpFound; dlp: DlpFound[]; ms?: number }
  | { kind: 'error'; error: ToolCallError; ms: number }
  | { kind: 'aborted'; why: RunAbort['why'] }
  | { kind: 'fault'; message: string; ms: number }
  /** The call could not be made for a reason expected to pass (the secret, under another master key). */
  | { kind: 'unavailable'; message: string };

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

/** Resolves with the call, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Executes runs, one job at a time: claims the run within its company's cap, then walks its steps from
 * `currentStepIndex`. Every transition is its own short transaction holding the run's row lock, and every write
 * first checks that this worker still holds the lease (status `running`, `leaseOwner` = this worker): a worker
 * that lost its lease stops without writing anything more. Tool calls happen outside any transaction.
 */
@Injectable()
export class RunEngine {
  private readonly logger = new Logger('RunEngine');

  constructor(
    private readonly tenancy: TenancyService,
    private readonly claims: RunClaims,
    private readonly transitions: RunTransitions,
    @Inject(CONNECTOR_INVOKER) private readonly invoker: ConnectorInvoker,
    private readonly dlp: DlpService,
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
      await this.held(claimed, (tx, run) => this.transitions.recover(tx, run, { enqueue: true }));
    }
  }

  private inTenant<T>(companyId: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.tenancy.run(workerContext(companyId), fn);
  }

  /** One worker transaction in the run's company, retried when it was a deadlock victim. */
  private transaction<T>(companyId: string, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return retryTransient(() => this.inTenant(companyId, (em) => em.transactional(fn)));
  }

  /** Runs `fn` on the run, locked, if this claim still holds its lease; otherwise returns `lost`. */
  private held<T>(claimed: Claimed, fn: (tx: EntityManager, run: Run) => Promise<T>): Promise<T | 'lost'> {
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
   * Ends a run whose job keeps failing with an unexpected error (a bug, a value the database refuses): it is
   * failed with a generic reason (the cause is logged), its step too, and its audit event is written in the same
   * transaction. A run that is parked, finished, or held by a worker under a live lease is left alone (its own
   * path handles it), as is one that is gone. Returns whether it failed the run.
   */
  async failStuck(job: RunJob): Promise<boolean> {
    return this.transaction(job.companyId, async (tx) => {
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
    return this.transaction(job.companyId, async (tx) => {
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
      return { companyId: job.companyId, runId: run.id, lease, next: await this.decide(tx, run, worker) };
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
      renewing ??= this.renewLease(claimed, worker, controller).finally(() => {
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
        const outcome = await this.call(claimed, next, controller.signal);
        next = await this.recordOutcome(claimed, worker, next, outcome);
      }
    } finally {
      clearInterval(renewal);
      await renewing;
      worker.untrack(claimed.runId);
    }
  }

  /**
   * Extends the lease while the run executes; aborts the in-flight call when the lease is gone, or when a
   * cancellation was requested from another process.
   */
  private async renewLease(claimed: Claimed, worker: RunWorkerHandle, controller: AbortController) {
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

  /** Decides what comes next in a transaction of its own (after a backoff). */
  private async nextAction(claimed: Claimed, worker: RunWorkerHandle): Promise<NextAction> {
    const next = await this.held(claimed, (tx, run) => this.decide(tx, run, worker));
    return next === 'lost' ? { kind: 'stop' } : next;
  }

  /**
   * Decides what comes next for a run this worker holds, inside the caller's transaction: cancel, hand back,
   * finish, park, or start the next attempt of a tool step.
   */
  private async decide(tx: EntityManager, run: Run, worker: RunWorkerHandle): Promise<NextAction> {
    if (run.cancelRequestedAt) {
      await this.transitions.cancel(tx, run, { requestedAt: run.cancelRequestedAt.toISOString() });
      return { kind: 'stop' };
    }
    if (worker.stopping) {
      await this.transitions.release(tx, run);
      return { kind: 'stop' };
    }
    const step = this.transitions.currentStep(run);
    if (!step) {
      await this.transitions.succeed(tx, run);
      return { kind: 'stop' };
    }
    if (step.kind === 'approval') {
      await this.transitions.park(tx, run, step);
      return { kind: 'stop' };
    }
    const row =
      (await this.transitions.stepRow(tx, run)) ??
      new RunStep(run.id, run.currentStepIndex, step.id, 'tool', 'running');
    if (row.attempts >= maxAttempts(step)) {
      row.status = 'failed';
      row.finishedAt = new Date();
      await this.transitions.fail(tx, run, this.exhaustedReason(step, row), step.id);
      return { kind: 'stop' };
    }
    row.attempts += 1;
    row.status = 'running';
    row.startedAt ??= new Date();
    tx.persist(row);
    // Committed before the call: a worker that dies during the call leaves this attempt visible, and the
    // recovery marks it interrupted before any retry.
    this.transitions.event(tx, run, 'step.started', step.id, { attempt: row.attempts });
    const input = interpolate(step.input ?? {}, {
      input: run.input,
      steps: await stepOutputs(tx, run.id, step),
    }) as JsonValue;
    return { kind: 'call', step, stepIndex: run.currentStepIndex, attempt: row.attempts, input };
  }

  private exhaustedReason(step: ToolStep, row: RunStep): string {
    const last = row.error ? `: ${row.error.message}` : '';
    return `Step "${step.id}" failed after ${row.attempts} attempt${row.attempts === 1 ? '' : 's'}${last}`;
  }

  /** One call of the step's connector, in the run's tenant context, outside any transaction. */
  private async call(claimed: Claimed, next: CallAction, signal: AbortSignal): Promise<CallOutcome> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    try {
      // DLP `connector_request`: the payload is scanned before it leaves (redacted, or not sent at all).
      const request = await this.inTenant(claimed.companyId, () =>
        this.dlp.inspect('connector_request', next.input, `steps.${next.step.id}.request`),
      );
      const sent: DlpFound = { scope: 'connector_request', hits: request.hits };
      if (request.blocked) return { kind: 'dlp_blocked', blocked: sent, dlp: [] };
      const result = await abortable(
        this.inTenant(claimed.companyId, () =>
          this.invoker.invoke({
            toolId: next.step.toolId,
            input: request.value,
            ...(next.step.timeoutMs !== undefined ? { timeoutMs: next.step.timeoutMs } : {}),
            // Stable across attempts (and across workers), so the endpoint can recognise a repeat.
            idempotencyKey: `${claimed.runId}:${next.step.id}`,
            // Cancelling, losing the lease or stopping also ends the HTTP request itself.
            signal,
          }),
        ),
        signal,
      );
      const ms = took();
      // DLP `step_output`: the connector's answer is scanned before it is stored.
      const answer = await this.inTenant(claimed.companyId, () =>
        this.dlp.inspect('step_output', result.output, `steps.${next.step.id}.output`),
      );
      const received: DlpFound = { scope: 'step_output', hits: answer.hits };
      if (answer.blocked) return { kind: 'dlp_blocked', blocked: received, dlp: [sent], ms };
      return { kind: 'ok', result: { ...result, output: answer.value }, ms, dlp: [sent, received] };
    } catch (e) {
      if (e instanceof RunAbort) return { kind: 'aborted', why: e.why };
      if (e instanceof ToolCallError) return { kind: 'error', error: e, ms: took() };
      if (e instanceof SecretUnavailableError) {
        this.logger.error(
          `run ${claimed.runId} step ${next.step.id}: the connector secret is unavailable: ${e.message}`,
        );
        if (e.transient) {
          return {
            kind: 'unavailable',
            message:
              'The connector’s secret cannot be decrypted by this worker right now (a server fault, logged)',
          };
        }
        return {
          kind: 'fault',
          message:
            'The connector’s secret could not be decrypted (a server fault, logged for the administrators)',
          ms: took(),
        };
      }
      this.logger.error(
        `run ${claimed.runId} step ${next.step.id}: the tool call failed unexpectedly: ${(e as Error)?.stack ?? String(e)}`,
      );
      return {
        kind: 'fault',
        message: 'The tool call failed unexpectedly (a server fault, logged)',
        ms: took(),
      };
    }
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
    const after = await this.held(claimed, async (tx, run): Promise<NextAction> => {
      const row = await this.transitions.stepRow(tx, run, next.stepIndex);
      if (!row || run.currentStepIndex !== next.stepIndex) return stop;
      const { step, attempt } = next;
      const now = new Date();
      if (outcome.kind === 'ok' || outcome.kind === 'error' || outcome.kind === 'fault') {
        // What the call took, on its step, and in the analytics rollups (each recorded call counted once).
        row.lastCallMs = outcome.ms;
        const reason =
          outcome.kind === 'ok' ? null : outcome.kind === 'error' ? outcome.error.reason : 'internal';
        await this.transitions.countCall(tx, step.toolId, outcome.ms, reason);
      }
      if (outcome.kind === 'ok' || outcome.kind === 'dlp_blocked') {
        for (const found of outcome.dlp) {
          await this.dlp.record(tx, found.scope, found, { type: 'Run', id: run.id });
        }
      }
      switch (outcome.kind) {
        case 'ok':
          row.status = 'succeeded';
          // An endpoint's JSON may hold NUL (\u0000), which PostgreSQL stores in no text and no jsonb.
          row.output = scrubNul(outcome.result.output);
          row.error = null;
          row.finishedAt = now;
          run.currentStepIndex += 1;
          this.transitions.event(tx, run, 'step.succeeded', step.id, {
            attempt,
            status: outcome.result.status,
            durationMs: outcome.result.durationMs,
          });
          return this.decide(tx, run, worker);
        case 'dlp_blocked': {
          // Refused by the company's DLP policy: the payload was not sent (connector_request) or the answer is
          // not stored (step_output). Not retryable: the same data would be refused again. The refusal's event
          // commits with the step's failure; it names detectors and field paths, never a value.
          if (outcome.ms !== undefined) {
            row.lastCallMs = outcome.ms;
            await this.transitions.countCall(tx, step.toolId, outcome.ms, null);
          }
          const named = [
            ...new Set(
              outcome.blocked.hits
                .filter((h) => h.action === 'block')
                .map((h) => `${h.detector} at ${h.path}`),
            ),
          ].join(', ');
          const message = `Refused by the company's DLP policy (${outcome.blocked.scope}): ${named}`;
          row.status = 'failed';
          row.finishedAt = now;
          row.error = { reason: 'dlp_blocked', message };
          this.transitions.event(tx, run, 'step.failed', step.id, {
            attempt,
            reason: 'dlp_blocked',
            message,
            retryable: false,
            willRetry: false,
          });
          await this.dlp.recordBlockedIn(tx, outcome.blocked.scope, outcome.blocked.hits, {
            type: 'Run',
            id: run.id,
          });
          await this.transitions.fail(tx, run, `Step "${step.id}" failed: ${message}`, step.id);
          return stop;
        }
        case 'aborted':
          // Cancelled while the call was in flight: its outcome is unknown, the run ends here.
          await this.transitions.cancel(tx, run, {
            requestedAt: run.cancelRequestedAt?.toISOString() ?? null,
            during: 'call',
          });
          return stop;
        case 'error': {
          const { error } = outcome;
          const message = withoutNul(error.message);
          const willRetry = error.retryable && attempt < maxAttempts(step) && !run.cancelRequestedAt;
          row.error = {
            reason: error.reason,
            message,
            ...(error.status !== undefined ? { status: error.status } : {}),
          };
          this.transitions.event(tx, run, 'step.failed', step.id, {
            attempt,
            reason: error.reason,
            message,
            ...(error.status !== undefined ? { status: error.status } : {}),
            retryable: error.retryable,
            willRetry,
          });
          if (willRetry) {
            row.status = 'retrying';
            return { kind: 'retry', attempt };
          }
          row.status = 'failed';
          row.finishedAt = now;
          const reason =
            error.reason === 'not_bound'
              ? `Tool "${step.toolId}" is not bound to a connector`
              : error.retryable && attempt >= maxAttempts(step)
                ? this.exhaustedReason(step, row)
                : `Step "${step.id}" failed: ${message}`;
          await this.transitions.fail(tx, run, reason, step.id);
          return stop;
        }
        case 'fault':
          row.status = 'failed';
          row.finishedAt = now;
          row.error = { reason: 'internal', message: outcome.message };
          this.transitions.event(tx, run, 'step.failed', step.id, {
            attempt,
            reason: 'internal',
            message: outcome.message,
            retryable: false,
            willRetry: false,
          });
          await this.transitions.fail(tx, run, outcome.message, step.id);
          return stop;
        case 'unavailable':
          // The call never reached the endpoint, so the attempt does not count. The run goes back to the queue
          // (its slot freed) and is tried again later, by whichever worker then holds the right key.
          row.attempts -= 1;
          row.status = 'retrying';
          this.transitions.event(tx, run, 'step.failed', step.id, {
            attempt,
            reason: 'secret_unavailable',
            message: outcome.message,
            retryable: true,
            willRetry: true,
            counted: false,
          });
          await this.transitions.release(tx, run, {
            reason: 'secret_unavailable',
            startAfter: new Date(
              Date.now() + (worker.settings.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS),
            ),
          });
          return stop;
      }
    });
    return after === 'lost' ? stop : after;
  }
}
