import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EntityManager, LockMode, MikroORM } from '@mikro-orm/postgresql';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { MAIL_TRANSPORT, type MailTransport } from './mail-transport.js';
import { OutboxMessage } from './outbox-message.entity.js';

export interface MailContent {
  to: string;
  subject: string;
  text: string;
  html?: string | null;
}

export interface DrainReport {
  sent: number;
  /** Attempts that failed (retried later, or given up after the last one). */
  failed: number;
}

const TASK = 'mail.drain';
const DRAIN_EVERY_MS = 5_000;
const BATCH = 20;
/** A claimed message is not due again for this long: the time one delivery may take before another worker retries. */
const LEASE_MS = 10 * 60_000;
const MAX_ATTEMPTS = 10;
const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 60 * 60_000;

/** 30 s, 1 min, 2 min, … capped at an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * The transactional mail outbox. `enqueue` writes a message in the caller's transaction; `drain` delivers due
 * messages after commit: it claims a batch with `FOR UPDATE SKIP LOCKED` (so any number of processes may drain
 * at once without sending a message twice), leases the claimed rows, sends them outside any transaction, then
 * marks each sent (blanking its body) or schedules a retry with exponential backoff. A crash between sending
 * and marking sends that message again after the lease: delivery is at least once.
 */
@Injectable()
export class MailOutboxService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailOutbox');
  private draining: Promise<DrainReport> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly scheduler: Scheduler,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
  ) {}

  onModuleInit(): void {
    this.scheduler.register(TASK, DRAIN_EVERY_MS, () => this.drain());
  }

  onModuleDestroy(): void {
    this.transport.close();
  }

  /** Queues a message in `em`'s transaction: it is sent only if that transaction commits. */
  enqueue(em: EntityManager, mail: MailContent): OutboxMessage {
    const message = new OutboxMessage(mail.to, mail.subject.slice(0, 300), mail.text, mail.html ?? null);
    em.persist(message);
    return message;
  }

  /** Asks the scheduler (when it runs in this process) to drain soon: call after the enqueueing commit. */
  kick(): void {
    this.scheduler.trigger(TASK);
  }

  /** Delivers every due message, batch by batch. Concurrent calls in one process share one run. */
  drain(now: () => Date = () => new Date()): Promise<DrainReport> {
    this.draining ??= this.drainAll(now).finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainAll(now: () => Date): Promise<DrainReport> {
    const report: DrainReport = { sent: 0, failed: 0 };
    for (;;) {
      const batch = await this.claim(now());
      for (const message of batch) {
        if (await this.deliver(message, now)) report.sent++;
        else report.failed++;
      }
      if (batch.length < BATCH) return report;
    }
  }

  /** Claims up to one batch of due messages (skipping rows another drainer holds) and leases them. */
  private async claim(at: Date): Promise<OutboxMessage[]> {
    const em = this.orm.em.fork({ clear: true, disableContextResolution: true });
    return em.transactional(async (tx) => {
      const due = await tx.find(
        OutboxMessage,
        { sentAt: null, failedAt: null, nextAttemptAt: { $lte: at } },
        {
          lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE,
          orderBy: { nextAttemptAt: 'asc', id: 'asc' },
          limit: BATCH,
        },
      );
      for (const message of due) {
        message.attempts += 1;
        message.nextAttemptAt = new Date(at.getTime() + LEASE_MS);
      }
      return due;
    });
  }

  private async deliver(message: OutboxMessage, now: () => Date): Promise<boolean> {
    const em = this.orm.em.fork({ clear: true, disableContextResolution: true });
    try {
      await this.transport.send({
        id: message.id,
        to: message.recipient,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const givingUp = message.attempts >= MAX_ATTEMPTS;
      const at = now();
      await em.nativeUpdate(
        OutboxMessage,
        { id: message.id },
        givingUp
          ? { failedAt: at, lastError: error.slice(0, 2000), text: '', html: null }
          : {
              nextAttemptAt: new Date(at.getTime() + backoffMs(message.attempts)),
              lastError: error.slice(0, 2000),
            },
      );
      this.logger.warn(
        `delivery of mail ${message.id} failed (attempt ${message.attempts}${givingUp ? ', giving up' : ''}): ${error}`,
      );
      return false;
    }
    // Sent: the body (which may hold a token) is no longer needed.
    await em.nativeUpdate(
      OutboxMessage,
      { id: message.id },
      { sentAt: now(), lastError: null, text: '', html: null },
    );
    return true;
  }
}
