import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';
import type { PreparedStatement } from '../database/prepared-statements.js';
import { currentTenant, requestStorage } from './request-store.js';
import { TENANT_FILTER } from './tenant.entity.js';

/**
 * Runs one hand-written statement inside the context's company, in `em`'s current transaction: the transaction
 * carries `app.company_id` (set from the context when it began), so row-level security scopes the statement, and
 * the statement filters on the company explicitly (pass `currentTenant().companyId` as a parameter). For the
 * few statements the ORM cannot express well enough (the audit append); they live in `src/database/statements/`
 * and `src/tenancy/statements/`. It is sent with real parameters on the transaction's own connection, as a named
 * prepared statement (src/database/prepared-statements.ts): parsed and planned once per pooled connection.
 */
export async function scoped<R extends object>(
  em: EntityManager,
  statement: PreparedStatement,
  params: readonly unknown[],
): Promise<R[]> {
  currentTenant();
  const trx = em.getTransactionContext<Kysely<object>>();
  if (!em.isInTransaction() || !trx) {
    throw new Error('A scoped statement runs inside a transaction (which carries the company setting)');
  }
  // The ORM's `onQuery` hook sees (and may rewrite) it like any other statement; a rewritten text is not prepared.
  const compiled = CompiledQuery.raw(em.config.get('onQuery')(statement.text, params), [...params]);
  const logger = em.config.getLogger();
  const started = Date.now();
  try {
    const { rows } = await trx.executeQuery<R>(compiled);
    if (logger.isEnabled('query')) {
      logger.logQuery({
        query: compiled.sql,
        params: [...params],
        took: Date.now() - started,
        results: rows.length,
      });
    }
    return rows;
  } catch (error) {
    // The driver's error converted as the ORM converts its own (a unique violation → 409, a bad uuid → 400, …).
    throw error instanceof Error ? em.getDriver().convertException(error) : error;
  }
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
