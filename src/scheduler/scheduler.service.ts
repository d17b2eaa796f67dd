import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';

interface Task {
  readonly name: string;
  readonly everyMs: number;
  readonly run: () => Promise<unknown>;
  timer: NodeJS.Timeout | undefined;
  inflight: Promise<void> | undefined;
  /** A trigger arrived while the task ran: run it once more right after. */
  again: boolean;
}

/**
 * The in-process scheduler of periodic background work (mail delivery, company purge, audit export). It runs only when
 * `WORKER_MODE=inline`; with `off` nothing starts and the work is done elsewhere (or, in tests, called
 * directly). A task never overlaps itself; its timers are unref'd so they never keep the process alive, and
 * shutdown waits for runs in flight. Every task is safe to run on several processes at once (each claims
 * its rows in the database), so this is a convenience, not a coordination point.
 */
@Injectable()
export class Scheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private readonly tasks = new Map<string, Task>();
  private started = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Whether periodic work runs in this process. */
  get enabled(): boolean {
    return this.config.worker.mode === 'inline';
  }

  /** Registers a task (call from `onModuleInit`); it starts with the application when enabled. */
  register(name: string, everyMs: number, run: () => Promise<unknown>): void {
    if (this.tasks.has(name)) throw new Error(`Scheduler task ${name} is registered twice`);
    const task: Task = { name, everyMs, run, timer: undefined, inflight: undefined, again: false };
    this.tasks.set(name, task);
    if (this.started) this.start(task);
  }

  /** The interval of a registered task, in ms; undefined when no task has that name. */
  intervalOf(name: string): number | undefined {
    return this.tasks.get(name)?.everyMs;
  }

  /** Runs a task soon (after the change that needs it committed); a no-op when the scheduler is off. */
  trigger(name: string): void {
    const task = this.tasks.get(name);
    if (this.started && task) setImmediate(() => this.runOnce(task));
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.started = true;
    for (const task of this.tasks.values()) this.start(task);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.started = false;
    for (const task of this.tasks.values()) {
      clearInterval(task.timer);
      task.timer = undefined;
      task.again = false;
    }
    const inflight = [...this.tasks.values()].flatMap((t) => (t.inflight ? [t.inflight] : []));
    await Promise.allSettled(inflight);
  }

  private start(task: Task): void {
    task.timer = setInterval(() => this.runOnce(task), task.everyMs);
    task.timer.unref();
  }

  private runOnce(task: Task): void {
    if (!this.started) return;
    if (task.inflight) {
      task.again = true;
      return;
    }
    task.inflight = task
      .run()
      .then(
        () => undefined,
        (e: unknown) => this.logger.error(`task ${task.name} failed: ${(e as Error)?.stack ?? String(e)}`),
      )
      .finally(() => {
        task.inflight = undefined;
        if (task.again) {
          task.again = false;
          this.runOnce(task);
        }
      });
  }
}
