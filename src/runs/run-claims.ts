import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { lockCompany } from '../tenancy/company-lock.js';
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
  /** The company's `runs` lock (see `lockCompany`), held until `tx` ends; only inside that company's context. */
  async lockCompany(tx: EntityManager, companyId: string): Promise<void> {
    if (companyId !== currentTenant().companyId) {
      throw new Error('A company lock is only taken inside that company’s own tenant context');
    }
    await lockCompany(tx, 'runs');
  }

  /** The company's runs holding a slot (tenant filter and row-level security scope the count). */
  countRunning(tx: EntityManager): Promise<number> {
    return tx.count(Run, { status: 'running' });
  }
}
