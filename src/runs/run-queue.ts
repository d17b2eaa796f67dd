import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { PgBoss, type Job } from 'pg-boss';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { transactionDb as jobTransaction } from '../database/job-transaction.js';
import { PGBOSS_SCHEMA, RUN_GROUP_CONCURRENCY, RUN_QUEUE, type RunJob } from './run-queue.schema.js';

export interface RunQueueOptions {
  /** Run pg-boss maintenance here (failing jobs whose worker stopped heart-beating, deleting old jobs). */
  supervise: boolean;
}

/** The transaction of `tx` as a pg-boss database: a job sent through it commits (or not) with `tx`. */
const transactionDb = (tx: EntityManager) => jobTransaction(tx, 'Run jobs');

/**
 * The run queue on pg-boss, connected as the application role (`migrate: false`: no DDL at runtime; the schema
 * must have been installed by `npm run migrate`). Jobs are *enqueued inside the caller's transaction*, so a run
 * never exists without its job, nor a job without its run. Workers fetch, heartbeat and settle jobs here.
 */
@Injectable()
export class RunQueue implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RunQueue');
  private boss: PgBoss | undefined;
  private starting: Promise<PgBoss> | undefined;

  constructor(
    private readonly orm: MikroORM,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.started();
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (await this.starting?.catch(() => undefined));
    this.boss = undefined;
    this.starting = undefined;
    await boss?.stop({ graceful: false, close: true });
  }

  private started(): Promise<PgBoss> {
    if (this.boss) return Promise.resolve(this.boss);
    this.starting ??= this.start({ supervise: this.config.worker.mode === 'inline' }).then(
      (boss) => {
        this.boss = boss;
        return boss;
      },
      (e: unknown) => {
        this.starting = undefined; // the next use tries again
        throw e;
      },
    );
    return this.starting;
  }

  private async start(options: RunQueueOptions): Promise<PgBoss> {
    const boss = new PgBoss({
      connectionString: this.orm.config.get('clientUrl'),
      schema: PGBOSS_SCHEMA,
      max: 4,
      application_name: 'tenantry-runs',
      migrate: false,
      createSchema: false,
      supervise: options.supervise,
      superviseIntervalSeconds: 10,
      schedule: false,
      reindex: false,
      monitorVacuum: false,
      registerInstance: options.supervise,
      instanceName: 'tenantry-worker',
    });
    boss.on('error', (e) => this.logger.error(`pg-boss: ${e.message}`));
    boss.on('warning', (w) => this.logger.warn(`pg-boss: ${w.message}`));
    await boss.start();
    return boss;
  }

  /**
   * Sends `{ companyId, runId }` through `tx`'s own connection: it exists exactly when `tx` commits. `cap` is
   * the company's `maxConcurrentRuns` (the job's group tier); `startAfter` defers it. The company id is also the
   * job's `singletonKey`: on this `standard` queue that makes nothing unique (no `singletonSeconds`), it only lets
   * `retier` find the company's waiting jobs in one statement.
   */
  async enqueue(tx: EntityManager, job: RunJob, options: { cap: number; startAfter?: Date }): Promise<void> {
    const boss = await this.started();
    await boss.send(RUN_QUEUE, job, {
      db: transactionDb(tx),
      group: { id: job.companyId, tier: String(options.cap) },
      singletonKey: job.companyId,
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
    });
  }

  /**
   * Moves the company's waiting jobs (created, or failed and waiting for their retry) to the tier of its new
   * `cap`, in `tx`: the tier is fixed when a job is sent, so without this a raised cap would reach only the jobs
   * sent from then on, and the backlog would keep being fetched at the old cap (a lowered one would be fetched
   * above it, which the claim then refuses). Jobs already active keep their tier; they are being handled. A run
   * started while the change commits may still be sent with the old tier: the tier is only the fetch's fairness
   * aid (that job is fetched under the old limit, or re-sent with the new tier if a claim defers it); the claim
   * under the company lock always applies the current cap. Returns how many jobs moved.
   */
  async retier(tx: EntityManager, companyId: string, cap: number): Promise<number> {
    const boss = await this.started();
    const { updated } = await boss.update(RUN_QUEUE, undefined, {
      singletonKey: companyId,
      match: 'all',
      group: { id: companyId, tier: String(cap) },
      db: transactionDb(tx),
    });
    return updated;
  }

  /** Claims up to `limit` jobs, at most each company's cap at once (see `RUN_GROUP_CONCURRENCY`). */
  async fetch(limit: number): Promise<Job<RunJob>[]> {
    const boss = await this.started();
    return boss.fetch<RunJob>(RUN_QUEUE, { batchSize: limit, groupConcurrency: RUN_GROUP_CONCURRENCY });
  }

  /** Heartbeat of jobs in hand (fenced to the attempts fetched). */
  async touch(jobs: Job<RunJob>[]): Promise<void> {
    if (jobs.length === 0) return;
    const boss = await this.started();
    await boss.touch(RUN_QUEUE, jobs);
  }

  async complete(job: Job<RunJob>): Promise<void> {
    const boss = await this.started();
    await boss.complete(RUN_QUEUE, job);
  }

  /**
   * Runs pg-boss's supervision of the run queue now (it also runs every few seconds in workers): jobs whose
   * worker stopped heart-beating are failed and so delivered again, which is how their runs are recovered.
   */
  async supervise(): Promise<void> {
    const boss = await this.started();
    await boss.supervise(RUN_QUEUE);
  }

  async fail(job: Job<RunJob>, error: unknown): Promise<void> {
    const boss = await this.started();
    await boss.fail(RUN_QUEUE, job, { message: error instanceof Error ? error.message : String(error) });
  }
}
