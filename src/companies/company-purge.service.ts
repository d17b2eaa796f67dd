import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { deleteCompanyJobs } from '../database/statements/job-queue.js';
import { AccessCache } from '../members/access.cache.js';
import { MAIL_QUEUE } from '../mail/mail-queue.schema.js';
import { PGBOSS_SCHEMA, RUN_QUEUE } from '../runs/run-queue.schema.js';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { Company } from './company.entity.js';
import { CompanySettingsCache } from './company-settings.cache.js';

const PURGE_EVERY_MS = 15 * 60_000;
const BATCH = 100;

/**
 * Queues whose jobs carry `{ companyId }` (DESIGN.md: background work carries its company): a purge deletes
 * the company's jobs from each, whatever their state, so no job row naming the company outlives it.
 */
const COMPANY_QUEUES = [RUN_QUEUE, MAIL_QUEUE] as const;

/**
 * Deletes every company whose grace window has ended, one transaction each. Deleting the `companies` row
 * removes every tenant row: every tenant table references it with ON DELETE CASCADE (referential actions run
 * as the table owner and are not subject to row-level security) — the mail outbox included, so no recipient,
 * subject or unsent invitation link survives — the audit trail's append-only trigger lets the cascade through
 * once the company row is gone, and so does the last-owner trigger. The same transaction deletes the company's
 * queued (and finished) jobs, which live outside the tenant tables. The `purgeAfter` condition is repeated in
 * the delete, so a company restored in the meantime survives (and keeps its jobs). Users stay: accounts are
 * global, only their memberships of the purged company go.
 */
export async function purgeDueCompanies(em: EntityManager, now: Date): Promise<string[]> {
  const purged: string[] = [];
  for (;;) {
    const due = await em.find(
      Company,
      { purgeAfter: { $lte: now } },
      { fields: ['id'], orderBy: { purgeAfter: 'asc', id: 'asc' }, limit: BATCH },
    );
    let deleted = 0;
    for (const { id } of due) {
      const n = await em.transactional(async (tx) => {
        const gone = await tx.nativeDelete(Company, { id, purgeAfter: { $lte: now } });
        if (gone > 0) await deleteCompanyJobs(tx, PGBOSS_SCHEMA, COMPANY_QUEUES, id);
        return gone;
      });
      if (n > 0) {
        purged.push(id);
        deleted++;
      }
    }
    em.clear();
    if (due.length < BATCH || deleted === 0) return purged;
  }
}

/** Runs the purge periodically (in-process scheduler); `npm run cli -- companies purge` runs it once. */
@Injectable()
export class CompanyPurgeService implements OnModuleInit {
  private readonly logger = new Logger('CompanyPurge');

  constructor(
    private readonly tenancy: TenancyService,
    private readonly cache: CompanySettingsCache,
    private readonly access: AccessCache,
    private readonly scheduler: Scheduler,
  ) {}

  onModuleInit(): void {
    this.scheduler.register('companies.purge', PURGE_EVERY_MS, () => this.purgeDue(new Date()));
  }

  /** Purges the companies whose `purgeAfter` ≤ `now`; returns their ids. */
  async purgeDue(now: Date = new Date()): Promise<string[]> {
    const purged = await this.tenancy.unscoped(Unscoped.Purge, (em) => purgeDueCompanies(em, now));
    for (const id of purged) {
      this.cache.invalidate(id);
      this.access.forgetCompany(id);
      this.logger.log(`purged company ${id} and all its data`);
    }
    return purged;
  }
}
