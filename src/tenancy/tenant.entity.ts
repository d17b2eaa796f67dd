import { Filter, ManyToOne } from '@mikro-orm/decorators/legacy';
import type { EntityMetadata } from '@mikro-orm/core';
import { Company } from '../companies/company.entity.js';
import { BaseEntity } from '../database/base.entity.js';
import { currentTenant } from './request-store.js';

/** Name of the ORM filter that scopes every tenant entity to the context's company (wall one). */
export const TENANT_FILTER = 'tenant';

/** Session settings read by the row-level-security policies (wall two). */
export const SESSION = {
  company: 'app.company_id',
  user: 'app.user_id',
  credential: 'app.credential_hash',
} as const;

/** `current_setting` as a typed value that is NULL both before the setting exists and after a transaction reset it. */
export function settingSql(name: string, cast: 'uuid' | 'text'): string {
  const value = `nullif(current_setting('${name}', true), '')`;
  return cast === 'uuid' ? `${value}::uuid` : value;
}

export interface TenantFilterArgs {
  companyId: string;
}

/**
 * Base of every tenant-owned entity. The company is taken from the tenant context when the entity is created,
 * never from input; the filter below is enabled by default and its condition *requires* its parameter, so a query
 * on a tenant entity outside a tenant context throws instead of reading every company.
 * Row-level security on the table itself is attached by `attachTenantPolicy` at metadata discovery.
 */
@Filter({
  name: TENANT_FILTER,
  default: true,
  cond: (args) => ({ companyId: (args as TenantFilterArgs).companyId }),
})
export abstract class TenantEntity extends BaseEntity {
  @ManyToOne(() => Company, {
    mapToPk: true,
    fieldName: 'company_id',
    deleteRule: 'cascade',
    updateRule: 'cascade',
  })
  companyId: string = currentTenant().companyId;
}

/** Whether the entity is a concrete tenant-owned entity (extends `TenantEntity`). */
export function isTenantMeta(meta: EntityMetadata): boolean {
  return Boolean(meta.class) && meta.class.prototype instanceof TenantEntity && !meta.abstract;
}

/**
 * Metadata hook (wall three): every table of a `TenantEntity` gets `UNIQUE (company_id, id)`, the key that
 * references from other tenant tables point at (`TenantSchemaGenerator` makes those foreign keys composite)
 * and the key a Citus cluster distributed by `company_id` keeps (docs/scaling.md).
 */
export function attachTenantKeys(meta: EntityMetadata): void {
  if (!isTenantMeta(meta)) {
    return;
  }
  const name = `${meta.tableName}_company_id_id_unique`;
  meta.uniques = [
    ...(meta.uniques ?? []).filter((u) => u.name !== name),
    { name, properties: ['companyId', 'id'] },
  ];
}

/**
 * Metadata hook (wall two): every table of a `TenantEntity` gets `FORCE ROW LEVEL SECURITY` and a policy that
 * admits only rows of the company in the transaction's `app.company_id` setting, for reads and writes alike.
 * Entities may add their own narrower, read-only policies (for example a credential row visible by its hash).
 */
export function attachTenantPolicy(meta: EntityMetadata): void {
  if (!isTenantMeta(meta)) {
    return;
  }
  const condition = `company_id = ${settingSql(SESSION.company, 'uuid')}`;
  const name = `${meta.tableName}_tenant_isolation`;
  meta.policies = [
    { name, command: 'all', using: condition, check: condition },
    ...(meta.policies ?? []).filter((p) => p.name !== name),
  ];
  meta.rowLevelSecurity = 'force';
}
