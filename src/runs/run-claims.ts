import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { currentTenant } from '../tenancy/request-store.js';
import { Run } from './run.entity.js';

/**
 * The exact per-company cap. Every transition *into* `running` happens inside a transaction that first takes
 * the company's advisory lock and then counts the company's running runs: claims of one company are serialised
 * across every worker process, and each sees the previous one's committed result, so the count can never pass
 * `maxConcurrentRuns`, not even for a moment. Transitions out of `running` only lower the count and need no
 * lock. Other companies take other locks and never wait for this one.
 */
@Injectable()
export class RunClaims {
  /**
   * `pg_advisory_xact_lock` keyed by the company, held until `tx` ends. The one raw statement of the runs
   * feature (the ORM has no advisory locks): its only parameter is the context's own company id, bound as a
   * value, and it reads or writes no rows. Tested by the cap tests (two workers, one company).
   */
  async lockCompany(tx: EntityManager, companyId: string): Promise<void> {
    if (!tx.isInTransaction()) throw new Error('The company lock is held by a transaction');
    if (companyId !== currentTenant().companyId) {
      throw new Error('A company lock is only taken inside that company’s own tenant context');
    }
    await tx
      .getConnection()
      .execute(
        'select pg_advisory_xact_lock(hashtextextended(?, 0))',
        [`runs:${companyId}`],
        'all',
        tx.getTransactionContext(),
      );
  }

  /** The company's runs holding a slot (tenant filter and row-level security scope the count). */
  countRunning(tx: EntityManager): Promise<number> {
    return tx.count(Run, { status: 'running' });
  }
}
