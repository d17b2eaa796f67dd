import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedStatement, type PreparedStatement } from '../database/prepared-statements.js';
import { currentTenant } from './request-store.js';
import { scoped as scopedSql } from './scoped.js';

/**
 * A reviewed, hand-written statement that a feature may run through `scoped(...)`. Its first placeholder (`?`) is
 * the company, always bound to the context's own company by `scoped`; the statement must filter every tenant
 * table it touches on it (row-level security applies as well: it runs in a transaction carrying `app.company_id`).
 * Statements live in `src/tenancy/statements/`, never in feature code.
 */
export type CompanyStatement = PreparedStatement;

/** A `CompanyStatement` from SQL with `?` placeholders (or `$1`, `$2`, …), the first of them the company. */
export const companyStatement = (name: string, sql: string): CompanyStatement => preparedStatement(name, sql);

/**
 * Runs a `CompanyStatement` on the transaction's own connection, inside the context's company: the company is
 * the first parameter and callers cannot pass one. Refuses to run outside a transaction, where the
 * row-level-security setting would be missing.
 */
export function scoped<R extends object>(
  tx: EntityManager,
  statement: CompanyStatement,
  args: readonly unknown[],
): Promise<R[]> {
  // The one way to run hand-written SQL in a company (src/tenancy/scoped.ts), with the company as `$1`.
  return scopedSql<R>(tx, statement, [currentTenant().companyId, ...args]);
}
