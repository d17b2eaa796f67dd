import { PgBoss, type GroupConcurrencyConfig, type Queue } from 'pg-boss';
import { grantJobQueue } from '../database/statements/job-queue.js';

/** The schema pg-boss lives in (created by `npm run migrate`, as the owner). */
export const PGBOSS_SCHEMA = 'pgboss';
/** The one queue of run jobs. */
export const RUN_QUEUE = 'runs';

/** A job: "look at this run". Handling it is idempotent (see `RunEngine.process`). */
export interface RunJob {
  companyId: string;
  runId: string;
}

/**
 * The queue's options, applied by `npm run migrate` (so a change here reaches the database with the next
 * migrate). A job is active for as long as its run executes (until it parks or ends), so expiry is long and a
 * dead worker is noticed through the heartbeat instead: its job is failed and delivered again, and its handler
 * recovers the run inside the run's own company (`RunEngine.process`). Handling a job is idempotent and fails only on database faults, so it is retried
 * generously (backoff capped at a minute, for about an hour and a half) to outlast a database outage.
 */
export const RUN_QUEUE_OPTIONS: Omit<Queue, 'name'> = {
  policy: 'standard',
  expireInSeconds: 24 * 3600,
  heartbeatSeconds: 20,
  retryLimit: 100,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 60,
  deleteAfterSeconds: 24 * 3600,
  retentionSeconds: 14 * 24 * 3600,
};

/** Companies may set `maxConcurrentRuns` from 1 to 100: one pg-boss group tier per value. */
const MAX_CAP = 100;
const DEFAULT_CAP = 4;

/**
 * pg-boss `groupConcurrency` keyed by the company's cap (the job's group tier, set when the job is sent and
 * moved to a new cap by `RunQueue.retier` when the company changes it): a fetch never takes more of one
 * company's jobs than its cap while they are active, so a backlog of one company is not fetched ahead of
 * another's. Only a fairness aid: concurrent fetches can overshoot it, and a job outlives its run's slot for a
 * moment. The exact cap is the claim under the company's advisory lock (`RunClaims`).
 */
export const RUN_GROUP_CONCURRENCY: GroupConcurrencyConfig = {
  default: DEFAULT_CAP,
  tiers: Object.fromEntries(Array.from({ length: MAX_CAP }, (_, i) => [String(i + 1), i + 1])),
};

/**
 * Runs `use` with a pg-boss of its own on the database as the owner (`migrate`: install or upgrade pg-boss's
 * schema first), stopped afterwards; the first error pg-boss reported meanwhile is thrown. For `npm run migrate`.
 */
export async function withOwnerBoss<T>(
  ownerUrl: string,
  options: { max: number; migrate: boolean },
  use: (boss: PgBoss) => Promise<T>,
): Promise<T> {
  const boss = new PgBoss({
    connectionString: ownerUrl,
    schema: PGBOSS_SCHEMA,
    max: options.max,
    migrate: options.migrate,
    supervise: false,
    schedule: false,
    registerInstance: false,
  });
  const errors: Error[] = [];
  boss.on('error', (e) => errors.push(e));
  await boss.start();
  let result: T;
  try {
    result = await use(boss);
  } finally {
    await boss.stop({ graceful: false });
  }
  if (errors.length > 0) throw errors[0];
  return result;
}

/** Creates the queue `name` with `options`, or brings an existing one to them (its policy cannot change). */
async function ensureQueue(
  boss: PgBoss,
  name: string,
  options: Omit<Queue, 'name'>,
  log: (msg: string) => void,
): Promise<void> {
  if (!(await boss.getQueue(name))) {
    await boss.createQueue(name, options);
    log(`pg-boss: created queue ${name}`);
  } else {
    const { policy: _policy, ...rest } = options;
    void _policy;
    await boss.updateQueue(name, rest);
  }
}

/**
 * Installs (or upgrades) pg-boss's schema and the run queue as the database owner, then lets the application
 * role use it: DML on its tables and sequences, now and for tables a later pg-boss upgrade adds. The
 * application itself never runs DDL (it starts pg-boss with `migrate: false`). Called by `runMigrations`.
 */
export async function installRunQueue(
  ownerUrl: string,
  appRole: string,
  log: (msg: string) => void,
  /** The other queues of the one background mechanism (scheduled tasks), installed the same way. */
  others: readonly { name: string; options: Omit<Queue, 'name'> }[] = [],
  /** Queues no longer used: deleted with their jobs and schedules. */
  retired: readonly string[] = [],
): Promise<void> {
  await withOwnerBoss(ownerUrl, { max: 2, migrate: true }, async (boss) => {
    for (const queue of [{ name: RUN_QUEUE, options: RUN_QUEUE_OPTIONS }, ...others]) {
      await ensureQueue(boss, queue.name, queue.options, log);
    }
    for (const name of retired) {
      if (await boss.getQueue(name)) {
        await boss.deleteQueue(name);
        log(`pg-boss: deleted retired queue ${name}`);
      }
    }
  });
  await grantJobQueue(ownerUrl, PGBOSS_SCHEMA, appRole);
}
