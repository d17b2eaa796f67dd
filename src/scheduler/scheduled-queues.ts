import type { Queue } from 'pg-boss';

/** The pg-boss queues of scheduled background work (created by `npm run migrate`, like the run queue). */
export const SCHEDULED_TASKS = ['companies.purge', 'audit.export', 'idempotency.purge'] as const;
export type ScheduledTask = (typeof SCHEDULED_TASKS)[number];

/** Queues no longer used (deleted by `npm run migrate` with their schedules): `mail.drain` became `mail.send`. */
export const RETIRED_QUEUES = ['mail.drain'] as const;

/**
 * `stately`: at most one job queued and one active per task (per company, when the job names one through its
 * `singletonKey`), so a task never overlaps itself and a trigger while it runs runs it once more afterwards. A
 * failed run is retried with pg-boss's exponential backoff (the same shape as `backoffDelayMs`), then left to
 * the next scheduled run. Every task is safe on several processes at once: each claims its rows in the database.
 */
export const SCHEDULED_QUEUE_OPTIONS: Omit<Queue, 'name'> = {
  policy: 'stately',
  expireInSeconds: 3600,
  retryLimit: 3,
  retryDelay: 30,
  retryBackoff: true,
  retryDelayMax: 600,
  deleteAfterSeconds: 24 * 3600,
  retentionSeconds: 7 * 24 * 3600,
};

/** A cron expression for "every `everyMs`" (whole minutes: a minute is the finest cron step). */
export function cronEvery(everyMs: number): string {
  const minutes = Math.max(1, Math.round(everyMs / 60_000));
  if (minutes < 60) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  const hours = Math.max(1, Math.round(minutes / 60));
  if (hours < 24) return hours === 1 ? '0 * * * *' : `0 */${hours} * * *`;
  return '0 0 * * *';
}
