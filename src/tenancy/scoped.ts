import type { EntityData, EntityManager, QueryResult } from '@mikro-orm/postgresql';
import { currentTenant, requestStorage } from './request-store.js';
import { TENANT_FILTER } from './tenant.entity.js';

/**
 * Runs one hand-written statement inside the context's company, in `em`'s current transaction: the transaction
 * carries `app.company_id` (set from the context when it began), so row-level security scopes the statement, and
 * the statement filters on the company explicitly (pass `currentTenant().companyId` as a parameter). For the
 * few statements the ORM cannot express well enough (the audit append); they live in `src/database/statements/`.
 */
export async function scoped<R extends QueryResult | EntityData<object> | EntityData<object>[]>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
  method: 'all' | 'run' = 'all',
): Promise<R> {
  currentTenant();
  if (!em.isInTransaction()) {
    throw new Error('A scoped statement runs inside a transaction (which carries the company setting)');
  }
  return em.getConnection().execute<R>(sql, [...params], method, em.getTransactionContext());
}

/**
 * A query builder with the tenant filter applied. Call it after the builder's own `where` (a later `where`
 * replaces the filter's condition); the transaction's company setting adds row-level security as for any read.
 */
export async function tenantFiltered<Q extends { applyFilters(): Promise<void> }>(qb: Q): Promise<Q> {
  await qb.applyFilters();
  return qb;
}

/**
 * Find options for the one identity-scoped read: a user's own memberships across companies, after
 * `TenancyService.enterIdentity(userId)` for that same user. The tenant filter is off for that query; row-level
 * security (the `app.user_id` policy) admits only that user's rows, and the caller filters on the user id.
 */
export function identityScope(userId: string): { filters: Record<string, boolean> } {
  if (requestStorage.getStore()?.identityUserId !== userId) {
    throw new Error('An identity-scoped read needs the identity scope of the same user');
  }
  return { filters: { [TENANT_FILTER]: false } };
}
