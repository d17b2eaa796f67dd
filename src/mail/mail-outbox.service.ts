import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { PgBoss, type JobWithMetadata } from 'pg-boss';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { transactionDb } from '../database/job-transaction.js';
import { PGBOSS_SCHEMA } from '../runs/run-queue.schema.js';
import { currentTenant, systemContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { MAIL_QUEUE, type MailJob } from './mail-queue.schema.js';
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
  /** Attempts that failed (retried later by pg-boss, or given up after the last one). */
  failed: number;
}

/** What one delivery attempt did. */
type Outcome = { sent: true } | { sent: false; error?: Error };

const BATCH = 20;

/**
 * Outgoing mail: the outbox row is the transactional record of what to send, and pg-boss delivers it.
 *
 * `enqueue` writes the message *and its `mail.send` job* in the caller's transaction (the job is sent through
 * that transaction's connection), so a rolled-back change sends nothing and a committed one is never lost. The
 * job carries the company; its handler opens that company's context (both walls apply, as for a request), sends
 * the message outside any transaction, then marks it sent (blanking its body, which may hold a token). A failed
 * delivery fails the job, which pg-boss retries with its backoff (`MAIL_QUEUE_OPTIONS`); after the last attempt
 * the message is marked given up. Where `WORKER_MODE=inline` the queue is worked here; `drain` works it now
 * (tests, operators).
 */
@Injectable()
export class MailOutboxService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MailOutbox');
  private boss: PgBoss | undefined;
  private starting: Promise<PgBoss> | undefined;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly orm: MikroORM,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.worker.mode !== 'inline') return;
    const boss = await this.started();
    await boss.work<MailJob>(
      MAIL_QUEUE,
      { batchSize: 1, localConcurrency: 2, includeMetadata: true },
      async (jobs) => {
        // `includeMetadata` gives each job its retry count and limit (the last attempt marks the message given up).
        const job = jobs[0] as JobWithMetadata<MailJob> | undefined;
        if (!job) return;
        const outcome = await this.attempt(job);
        // Throwing fails the job: pg-boss retries it after its backoff, or gives up after the last attempt.
        if (!outcome.sent && outcome.error) throw outcome.error;
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (await this.starting?.catch(() => undefined));
    this.boss = undefined;
    this.starting = undefined;
    await boss?.stop({ graceful: true, close: true, timeout: 30_000 });
    this.transport.close();
  }

  private started(): Promise<PgBoss> {
    if (this.boss) return Promise.resolve(this.boss);
    this.starting ??= this.start().then(
      (boss) => (this.boss = boss),
      (e: unknown) => {
        this.starting = undefined; // the next use tries again
        throw e;
      },
    );
    return this.starting;
  }

  private async start(): Promise<PgBoss> {
    const boss = new PgBoss({
      connectionString: this.orm.config.get('clientUrl'),
      schema: PGBOSS_SCHEMA,
      max: 2,
      application_name: 'tenantry-mail',
      migrate: false,
      createSchema: false,
      supervise: false,
      schedule: false,
      registerInstance: false,
    });
    boss.on('error', (e) => this.logger.error(`pg-boss: ${e.message}`));
    await boss.start();
    return boss;
  }

  /**
   * Queues a message in `tx`'s transaction, in the context's company: the row and its delivery job exist exactly
   * when that transaction commits, and both are purged with the company.
   */
  async enqueue(tx: EntityManager, mail: MailContent): Promise<OutboxMessage> {
    const message = new OutboxMessage(mail.to, mail.subject.slice(0, 300), mail.text, mail.html ?? null);
    tx.persist(message);
    const job: MailJob = { companyId: currentTenant().companyId, messageId: message.id };
    const boss = await this.started();
    // The job's id is the message's: one job per message (see `queueWaitingMail`).
    await boss.send(MAIL_QUEUE, job, { id: message.id, db: transactionDb(tx, 'Mail jobs') });
    return message;
  }

  /** Delivers every mail job that is due now, in this process (the worker does this continuously). */
  async drain(): Promise<DrainReport> {
    const boss = await this.started();
    const report: DrainReport = { sent: 0, failed: 0 };
    for (;;) {
      const jobs = await boss.fetch<MailJob>(MAIL_QUEUE, { batchSize: BATCH, includeMetadata: true });
      for (const job of jobs) {
        const outcome = await this.attempt(job);
        if (outcome.sent) report.sent++;
        if (!outcome.sent && outcome.error) {
          report.failed++;
          await boss.fail(MAIL_QUEUE, job, { message: outcome.error.message });
        } else {
          await boss.complete(MAIL_QUEUE, job);
        }
      }
      if (jobs.length < BATCH) return report;
    }
  }

  /**
   * One delivery attempt of a job's message, in the job's company. A message already sent or given up (a job
   * delivered twice), or gone with its company, is skipped.
   */
  private attempt(job: JobWithMetadata<MailJob>): Promise<Outcome> {
    const attempt = job.retryCount + 1;
    const last = job.retryCount >= job.retryLimit;
    return this.tenancy.run(systemContext(job.data.companyId), async (em) => {
      const message = await em.findOne(OutboxMessage, { id: job.data.messageId });
      if (!message || message.sentAt || message.failedAt) return { sent: false };
      try {
        await this.transport.send({
          id: message.id,
          to: message.recipient,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        await em.nativeUpdate(
          OutboxMessage,
          { id: message.id },
          last
            ? {
                attempts: attempt,
                failedAt: new Date(),
                lastError: error.message.slice(0, 2000),
                text: '',
                html: null,
              }
            : { attempts: attempt, lastError: error.message.slice(0, 2000) },
        );
        this.logger.warn(
          `delivery of mail ${message.id} failed (attempt ${attempt}${last ? ', giving up' : ''}): ${error.message}`,
        );
        return { sent: false, error };
      }
      // Sent: the body (which may hold a token) is no longer needed.
      await em.nativeUpdate(
        OutboxMessage,
        { id: message.id },
        { attempts: attempt, sentAt: new Date(), lastError: null, text: '', html: null },
      );
      return { sent: true };
    });
  }
}
