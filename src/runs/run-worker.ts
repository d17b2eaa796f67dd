import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ConnectionException, DeadlockException, LockWaitTimeoutException } from '@mikro-orm/core';
import type { Job } from 'pg-boss';
import { isUuid, newId } from '../common/ids.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RunEngine } from './run-engine.js';
import { RunAbort, type RunExecutionSettings, type RunWorkerHandle } from './run-execution.js';
import { RunQueue } from './run-queue.js';
import { RUN_QUEUE_OPTIONS, type RunJob } from './run-queue.schema.js';

export interface RunWorkerSettings extends RunExecutionSettings {
  /** Runs this process executes at once. */
  concurrency: number;
  /** How often an idle worker looks for jobs (it also looks at once when a slot frees or a job is sent here). */
  pollIntervalMs: number;
  /** On shutdown, how long runs in flight get to reach a step boundary before their calls are abandoned. */
  stopGraceMs: number;
  /**
   * Attempts of a job that fail with an unexpected error (not an outage of the database) before its run is failed
   * for good: such an error repeats on every attempt, and the run would otherwise wait for pg-boss to give up.
   */
  jobFaultLimit: number;
}

export const DEFAULT_RUN_WORKER_SETTINGS: RunWorkerSettings = {
  concurrency: 8,
  pollIntervalMs: 500,
  leaseMs: 30_000,
  deferMs: 1_000,
  backoffBaseMs: 200,
  backoffMaxMs: 5_000,
  stopGraceMs: 10_000,
  jobFaultLimit: 5,
  unavailableRetryMs: 60_000,
};

const JOB_HEARTBEAT_MS = ((RUN_QUEUE_OPTIONS.heartbeatSeconds ?? 20) * 1000) / 2;

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const NETWORK_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection (is )?closed|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * Whether a job failed because the database (or the way to it) was unavailable, which passes and must be
 * outlasted (the queue retries such a job for about an hour and a half), rather than because handling the run
 * itself fails, which repeats on every attempt: lost or refused connections, SQLSTATE classes 08 (connection; but
 * 08P01, a protocol violation, is what a bad value causes), 53 (insufficient resources), 57 (operator
 * intervention: shutdown, cancel), 58 (system error), and lock conflicts that outlasted their retries.
 */
export function isInfrastructureFault(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  if (
    error instanceof ConnectionException ||
    error instanceof DeadlockException ||
    error instanceof LockWaitTimeoutException
  ) {
    return true;
  }
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_ERRORS.has(code)) return true;
    if (/^(08|53|57|58)[0-9A-Z]{3}$/.test(code) && code !== '08P01') return true;
    if (code === '40001' || code === '40P01' || code === '55P03') return true;
  }
  if (typeof message === 'string' && NETWORK_MESSAGES.test(message)) return true;
  return isInfrastructureFault(cause, depth + 1);
}

/**
 * The background worker of runs: fetches jobs from the run queue and hands each to the engine, up to
 * `concurrency` at once. Started with the application when `WORKER_MODE=inline` (the default), and by
 * `npm run worker`; any number of processes may run it against one database.
 *
 * It fetches with `fetch()` rather than pg-boss `work()`: a `work()` slot waits out its polling interval after
 * every job, which would cap each slot at one run per interval; here a slot is refilled as soon as it frees.
 * Jobs in hand are heart-beaten, so pg-boss fails (and retries) the jobs of a worker that died.
 */
@Injectable()
export class RunWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, RunWorkerHandle {
  private readonly logger = new Logger('RunWorker');
  readonly instanceId = `${hostname().slice(0, 60)}:${process.pid}:${newId().slice(-12)}`;
  settings: RunWorkerSettings = DEFAULT_RUN_WORKER_SETTINGS;
  private active = false;
  private stopRequested = false;
  private readonly jobs = new Map<string, Job<RunJob>>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly runs = new Map<string, AbortController>();
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  /** A wake that arrived while the loop was busy: the next idle returns at once. */
  private woken = false;

  constructor(
    private readonly queue: RunQueue,
    private readonly engine: RunEngine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.worker.mode === 'inline') this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  get running(): boolean {
    return this.active;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Runs being executed here right now. */
  get inFlight(): number {
    return this.handlers.size;
  }

  /** Starts fetching (tests and the benchmark pass shorter timings). */
  start(overrides: Partial<RunWorkerSettings> = {}): void {
    if (this.active) return;
    this.settings = { ...DEFAULT_RUN_WORKER_SETTINGS, ...overrides };
    this.active = true;
    this.stopRequested = false;
    this.heartbeat = setInterval(() => void this.touchJobs(), JOB_HEARTBEAT_MS);
    this.heartbeat.unref();
    this.loop = this.dispatch();
    this.logger.log(`worker ${this.instanceId} started`);
  }

  /**
   * Stops gracefully: no more fetching; runs in flight are handed back to the queue at their next step boundary
   * (or park or finish first). After `stopGraceMs` the calls still in flight are abandoned: their outcome is
   * unknown, so each run is recovered at once (the attempt marked interrupted, the retry recorded, the run
   * queued again for another worker).
   */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.stopRequested = true;
    this.wake();
    await this.loop;
    const all = Promise.allSettled([...this.handlers]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.settings.stopGraceMs);
    });
    if ((await Promise.race([all, graceOver])) === 'timeout') {
      this.logger.warn(`stopping with ${this.handlers.size} run(s) mid-step; their leases will expire`);
      for (const controller of this.runs.values()) controller.abort(new RunAbort('worker_stopped'));
      await all;
    }
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    this.active = false;
    this.logger.log(`worker ${this.instanceId} stopped`);
  }

  /** Changes timings of a started worker (`npm run worker -- --lease-ms …`, the benchmark). */
  configure(overrides: Partial<RunWorkerSettings>): void {
    this.settings = { ...this.settings, ...overrides };
  }

  /** Looks for jobs now (a job was just sent from this process, or a slot freed). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /** Aborts the in-flight call of a run executing in this process (its cancellation was just requested). */
  interrupt(runId: string): void {
    this.runs.get(runId)?.abort(new RunAbort('cancelled'));
  }

  track(runId: string, controller: AbortController): void {
    this.runs.set(runId, controller);
  }

  untrack(runId: string): void {
    this.runs.delete(runId);
  }

  private async dispatch(): Promise<void> {
    while (!this.stopRequested) {
      const free = this.settings.concurrency - this.jobs.size;
      if (free > 0) {
        let fetched: Job<RunJob>[] = [];
        try {
          fetched = await this.queue.fetch(free);
        } catch (e) {
          this.logger.error(`fetching run jobs failed: ${(e as Error).message}`);
        }
        for (const job of fetched) this.spawn(job);
        if (fetched.length > 0) continue;
      }
      await this.idle(this.settings.pollIntervalMs);
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.woken || this.stopRequested) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private spawn(job: Job<RunJob>): void {
    this.jobs.set(job.id, job);
    const handler = this.handle(job).finally(() => {
      this.jobs.delete(job.id);
      this.handlers.delete(handler);
      this.wake();
    });
    this.handlers.add(handler);
  }

  private async handle(job: Job<RunJob>): Promise<void> {
    const { companyId, runId } = job.data ?? {};
    try {
      if (!isUuid(companyId) || !isUuid(runId)) {
        this.logger.error(`run job ${job.id} carries no valid company and run ids; dropped`);
      } else {
        try {
          await this.engine.process({ companyId, runId }, this);
        } catch (e) {
          this.logger.error(
            `run job ${job.id} (run ${runId}, attempt ${job.retryCount + 1}) failed: ${(e as Error)?.stack ?? String(e)}`,
          );
          // A database outage passes: pg-boss retries the job (the run's lease expires and it is recovered).
          // Anything else fails again on every attempt: after a few, the run ends cleanly instead.
          if (isInfrastructureFault(e) || job.retryCount + 1 < this.settings.jobFaultLimit) throw e;
          if (!(await this.engine.failStuck({ companyId, runId }))) throw e;
          this.logger.error(
            `run ${runId} failed for good after ${job.retryCount + 1} failed attempts of its job`,
          );
        }
      }
      await this.queue.complete(job);
    } catch (e) {
      this.logger.warn(
        `run job ${job.id} (run ${String(runId)}) goes back to the queue: ${(e as Error)?.message}`,
      );
      await this.queue.fail(job, e).catch((err: unknown) => {
        this.logger.error(`could not fail run job ${job.id}: ${(err as Error).message}`);
      });
    }
  }

  private async touchJobs(): Promise<void> {
    try {
      await this.queue.touch([...this.jobs.values()]);
    } catch (e) {
      this.logger.warn(`job heartbeat failed: ${(e as Error).message}`);
    }
  }
}
