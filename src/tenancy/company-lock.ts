import type { EntityManager } from '@mikro-orm/postgresql';
import { currentTenant } from './request-store.js';

/** What a company lock serialises. Each purpose is its own lock: they never wait for one another. */
export type CompanyLockPurpose = 'runs' | 'administration' | 'audit-export' | 'wiki-tree';

/**
 * A transaction-scoped advisory lock on one company (`pg_advisory_xact_lock`), for work that must see the
 * committed result of the previous one within that company: run claims (the exact cap), company
 * administration (settings, deletion, invitations of one email, the invitation mail limit), the scheduled audit
 * export's watermark, the shape of the wiki tree (no cycles, no page under a deleted one).
 *
 * Deliberately not a row lock on `companies`: every insert into a tenant table share-locks its company row
 * through the foreign key, and the audit append holds the company's chain head while it inserts, so a
 * `FOR UPDATE` on the company row taken before appending would deadlock against any writer of that company.
 * Advisory locks take part in no such order.
 *
 * The only raw statement of the tenancy layer besides credential lookups: it reads and writes no rows, and its
 * one parameter is the context's own company id, bound as a value. Other companies take other locks.
 */
export async function lockCompany(tx: EntityManager, purpose: CompanyLockPurpose): Promise<void> {
  if (!tx.isInTransaction()) throw new Error('A company lock is held by a transaction');
  const { companyId } = currentTenant();
  await tx
    .getConnection()
    .execute(
      'select pg_advisory_xact_lock(hashtextextended(?, 0))',
      [`${purpose}:${companyId}`],
      'all',
      tx.getTransactionContext(),
    );
}
