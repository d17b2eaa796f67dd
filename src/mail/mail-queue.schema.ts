import type { Queue } from 'pg-boss';
import { waitingMail } from '../database/statements/waiting-mail.js';
import { withOwnerBoss } from '../runs/run-queue.schema.js';

/** The pg-boss queue of outgoing mail: one job per outbox message (created by `npm run migrate`). */
export const MAIL_QUEUE = 'mail.send';

/** A job: "deliver this message of this company". Handling it is idempotent (a sent message is skipped). */
export interface MailJob {
  companyId: string;
  messageId: string;
}

/**
 * Ten delivery attempts with pg-boss's exponential backoff (30 s, 1 min, 2 min, … with jitter, capped at an hour:
 * `retryDelay`, `retryBackoff`, `retryDelayMax`), the one backoff policy of background work. A job whose worker
 * died is retried after `expireInSeconds` (the time one delivery may take): delivery is at least once.
 */
export const MAIL_QUEUE_OPTIONS: Omit<Queue, 'name'> = {
  policy: 'standard',
  expireInSeconds: 600,
  retryLimit: 9,
  retryDelay: 30,
  retryBackoff: true,
  retryDelayMax: 3600,
  deleteAfterSeconds: 7 * 24 * 3600,
  retentionSeconds: 14 * 24 * 3600,
};

/**
 * Gives every waiting outbox message its delivery job, as the owner (called by `npm run migrate` after the queues
 * exist). A job's id is its message's id, so messages that have their job keep it (pg-boss skips a taken id).
 */
export async function queueWaitingMail(ownerUrl: string, log: (msg: string) => void): Promise<void> {
  const waiting = await waitingMail(ownerUrl);
  if (waiting.length === 0) return;
  await withOwnerBoss(ownerUrl, { max: 1, migrate: false }, async (boss) => {
    const ids = await boss.insert(
      MAIL_QUEUE,
      waiting.map((m) => ({ id: m.messageId, data: m satisfies MailJob })),
      { returnId: true },
    );
    log(`pg-boss: ${ids?.length ?? 0} waiting mail message(s) queued`);
  });
}
