import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Company } from '../companies/company.entity.js';
import { backoffDelayMs, type BackoffPolicy } from '../common/backoff.js';
import type { ScheduledTask } from '../scheduler/scheduled-queues.js';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { lockCompanyRegistryRow } from '../tenancy/company-lock.js';
import { currentStore, systemContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
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

const TASK = 'mail.drain' satisfies ScheduledTask;
/** The scheduled drain (a cron schedule: whole minutes); a kick after each enqueue drains at once. */
const DRAIN_EVERY_MS = 60_000;
const BATCH = 20;
/** Companies with due mail listed per registry query (a drain pages through all of them). */
const COMPANIES_PER_PAGE = 200;
/** A claimed message is not due again for this long: the time one delivery may take before another worker retries. */
const LEASE_MS = 10 * 60_000;
const MAX_ATTEMPTS = 10;
/** Retries of a failed delivery: 30 s, 1 min, 2 min, … capped at an hour. */
const MAIL_BACKOFF: BackoffPolicy = { firstMs: 30_000, maxMs: 60 * 60_000 };

/** The wait after failed delivery attempt number `attempts`. */
export function backoffMs(attempts: number): number {
  return backoffDelayMs(MAIL_BACKOFF, attempts);
}

/**
 * The transactional mail outbox. `enqueue` writes a message in the caller's transaction, in the caller's company;
 * `drain` delivers due messages after commit.
 *
 * The outbox is tenant data (row-level security, purged with its company), so the drainer never reads it across
 * companies. It lists the companies with due mail from the companies registry (`mail_due_at`, kept by the
 * outbox's `wake_drainer` trigger: a time, no mail), then drains each inside that company's own tenant context,
 * where both walls apply as for any request. Per company it claims a batch with `FOR UPDATE SKIP LOCKED` (so
 * any number of processes may drain at once without sending a message twice), leases the claimed rows, sends
 * them outside any transaction, then marks each sent (blanking its body) or schedules a retry with exponential
 * backoff; last, it re-arms the company's marker from what still waits. A crash between sending and marking
 * sends that message again after the lease: delivery is at least once.
 */
@Injectable()
export class MailOutboxService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailOutbox');
  private draining: Promise<DrainReport> | undefined;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly scheduler: Scheduler,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
  ) {}

  onModuleInit(): void {
    // A job naming a company (a kick) drains that company; the scheduled one drains every company with due mail.
    this.scheduler.register(TASK, DRAIN_EVERY_MS, (job) =>
      job.companyId ? this.drainCompany(job.companyId, () => new Date()) : this.drain(),
    );
  }

  onModuleDestroy(): void {
    this.transport.close();
  }

  /**
   * Queues a message in `em`'s transaction, in the context's company: it is sent only if that transaction
   * commits, and it is purged with the company.
   */
  enqueue(em: EntityManager, mail: MailContent): OutboxMessage {
    const message = new OutboxMessage(mail.to, mail.subject.slice(0, 300), mail.text, mail.html ?? null);
    em.persist(message);
    return message;
  }

  /**
   * Asks for the company's mail to be drained soon (a pg-boss job carrying the company, worked where the
   * scheduler runs): call after the enqueueing commit. The company defaults to the context's.
   */
  kick(companyId: string | undefined = currentStore()?.tenant?.companyId): void {
    this.scheduler.trigger(TASK, companyId ? { companyId } : {});
  }

  /** Delivers every due message, company by company. Concurrent calls in one process share one run. */
  drain(now: () => Date = () => new Date()): Promise<DrainReport> {
    this.draining ??= this.drainAll(now).finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainAll(now: () => Date): Promise<DrainReport> {
    const report: DrainReport = { sent: 0, failed: 0 };
    // One pass over the companies with due mail, in id order: each company at most once per drain (one whose
    // marker stays due, say because another drainer holds its rows, waits for the next run), and a company
    // that keeps failing cannot hold up the ones after it.
    let after: string | undefined;
    for (;;) {
      const due = await this.dueCompanies(now(), after);
      for (const companyId of due) {
        try {
          const one = await this.drainCompany(companyId, now);
          report.sent += one.sent;
          report.failed += one.failed;
        } catch (e) {
          // One company's failure (its database rows, not a delivery) must not stop the others' mail.
          this.logger.error(
            `draining the mail of company ${companyId} failed: ${(e as Error)?.stack ?? String(e)}`,
          );
        }
      }
      if (due.length < COMPANIES_PER_PAGE) return report;
      after = due[due.length - 1];
    }
  }

  /** A page of the companies whose earliest waiting mail is due, from the registry (no mail is read here). */
  private async dueCompanies(at: Date, after: string | undefined): Promise<string[]> {
    const rows = await this.tenancy.unscoped(Unscoped.Directory, (em) =>
      em.find(
        Company,
        { mailDueAt: { $lte: at }, ...(after ? { id: { $gt: after } } : {}) },
        { fields: ['id'], orderBy: { id: 'asc' }, limit: COMPANIES_PER_PAGE },
      ),
    );
    return rows.map((c) => c.id);
  }

  /** Delivers one company's due mail, in that company's context, then re-arms its marker. */
  private drainCompany(companyId: string, now: () => Date): Promise<DrainReport> {
    return this.tenancy.run(systemContext(companyId), async (em) => {
      const report: DrainReport = { sent: 0, failed: 0 };
      for (;;) {
        const batch = await this.claim(em, now());
        for (const message of batch) {
          if (await this.deliver(em, message, now)) report.sent++;
          else report.failed++;
        }
        if (batch.length < BATCH) break;
      }
      await this.rearm(em, companyId);
      return report;
    });
  }

  /** Claims up to one batch of the company's due messages (skipping rows another drainer holds) and leases them. */
  private claim(em: EntityManager, at: Date): Promise<OutboxMessage[]> {
    return em.fork({ clear: true }).transactional(async (tx) => {
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

  /**
   * Sets the company's marker to its earliest waiting message (or clears it). The company row is locked first,
   * and the minimum read by a statement after that: a message committed meanwhile either committed before the
   * lock (and is counted) or its trigger waits for this transaction and lowers the marker after it.
   */
  private async rearm(em: EntityManager, companyId: string): Promise<void> {
    await em.fork({ clear: true }).transactional(async (tx) => {
      await lockCompanyRegistryRow(tx);
      const next = await tx.findOne(
        OutboxMessage,
        { sentAt: null, failedAt: null },
        { fields: ['id', 'nextAttemptAt'], orderBy: { nextAttemptAt: 'asc' } },
      );
      await tx.nativeUpdate(Company, { id: companyId }, { mailDueAt: next?.nextAttemptAt ?? null });
    });
  }

  private async deliver(em: EntityManager, message: OutboxMessage, now: () => Date): Promise<boolean> {
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
