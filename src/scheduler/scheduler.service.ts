import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { PgBoss } from 'pg-boss';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { PGBOSS_SCHEMA } from '../runs/run-queue.schema.js';
import { cronEvery, SCHEDULED_TASKS, type ScheduledTask } from './scheduled-queues.js';

/** What a scheduled job carries: nothing (every company), or the one company it is about. */
export interface ScheduledJob {
  companyId?: string;
}

interface Task {
  readonly name: ScheduledTask;
  readonly everyMs: number;
  readonly run: (job: ScheduledJob) => Promise<unknown>;
}

/**
 * Periodic background work (company purge, audit export, idempotency purge) on pg-boss, the one
 * background mechanism: each task is a queue (`SCHEDULED_TASKS`, created by `npm run migrate`) with a cron
 * schedule, worked where `WORKER_MODE=inline`; with `off` nothing is scheduled or worked here (the work is done
 * elsewhere or, in tests, called directly). `trigger` sends a job at once (after the change that needs it
 * committed), optionally naming the company it is about; the task then opens that company's context.
 */
@Injectable()
export class Scheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private readonly tasks = new Map<ScheduledTask, Task>();
  private boss: PgBoss | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly orm?: MikroORM,
  ) {}

  /** Whether periodic work runs in this process. */
  get enabled(): boolean {
    return this.config.worker.mode === 'inline';
  }

  /** Registers a task (call from `onModuleInit`); it is scheduled and worked when the application starts. */
  register(name: ScheduledTask, everyMs: number, run: (job: ScheduledJob) => Promise<unknown>): void {
    if (!SCHEDULED_TASKS.includes(name)) throw new Error(`Scheduled task ${name} has no queue`);
    if (this.tasks.has(name)) throw new Error(`Scheduler task ${name} is registered twice`);
    this.tasks.set(name, { name, everyMs, run });
  }

  /** The interval of a registered task, in ms; undefined when no task has that name. */
  intervalOf(name: string): number | undefined {
    return this.tasks.get(name as ScheduledTask)?.everyMs;
  }

  /** Runs a task soon (optionally for one company); a no-op when the scheduler is off. */
  trigger(name: ScheduledTask, job: ScheduledJob = {}): void {
    const boss = this.boss;
    if (!boss || !this.tasks.has(name)) return;
    boss
      .send(name, job, job.companyId ? { singletonKey: job.companyId } : {})
      .catch((e: unknown) => this.logger.error(`trigger of ${name} failed: ${String(e)}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled || this.tasks.size === 0) return;
    if (!this.orm) throw new Error('The scheduler needs the database to run');
    const boss = new PgBoss({
      connectionString: this.orm.config.get('clientUrl'),
      schema: PGBOSS_SCHEMA,
      max: 2,
      application_name: 'tenantry-scheduler',
      migrate: false,
      createSchema: false,
      supervise: false,
      schedule: true,
      registerInstance: false,
    });
    boss.on('error', (e) => this.logger.error(`pg-boss: ${e.message}`));
    await boss.start();
    this.boss = boss;
    for (const task of this.tasks.values()) {
      await boss.schedule(task.name, cronEvery(task.everyMs), {});
      await boss.work<ScheduledJob>(task.name, { batchSize: 1 }, async (jobs) => {
        for (const job of jobs) await task.run(job.data ?? {});
      });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    const boss = this.boss;
    this.boss = undefined;
    await boss?.stop({ graceful: true, close: true, timeout: 30_000 });
  }
}
