import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { Company } from './company.entity.js';
import { CompanySettingsCache } from './company-settings.cache.js';

const PURGE_EVERY_MS = 15 * 60_000;
const BATCH = 100;

/**
 * Deletes every company whose grace window has ended, one transaction each. Deleting the `companies` row is
 * the whole purge: every tenant table references it with ON DELETE CASCADE (referential actions run as the
 * table owner and are not subject to row-level security), the audit trail's append-only trigger lets the
 * cascade through once the company row is gone, and so does the last-owner trigger. The `purgeAfter`
 * condition is repeated in the delete, so a company restored in the meantime survives. Users stay: accounts
 * are global, only their memberships of the purged company go.
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
      const n = await em.transactional((tx) => tx.nativeDelete(Company, { id, purgeAfter: { $lte: now } }));
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
    private readonly orm: MikroORM,
    private readonly cache: CompanySettingsCache,
    private readonly scheduler: Scheduler,
  ) {}

  onModuleInit(): void {
    this.scheduler.register('companies.purge', PURGE_EVERY_MS, () => this.purgeDue(new Date()));
  }

  /** Purges the companies whose `purgeAfter` ≤ `now`; returns their ids. */
  async purgeDue(now: Date = new Date()): Promise<string[]> {
    const em = this.orm.em.fork({ clear: true, disableContextResolution: true });
    const purged = await purgeDueCompanies(em, now);
    for (const id of purged) {
      this.cache.invalidate(id);
      this.logger.log(`purged company ${id} and all its data`);
    }
    return purged;
  }
}
