import type { Opt } from '@mikro-orm/core';
import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * How many runs a company started in one calendar month (UTC), against its `monthlyRunBudget`. The row is
 * locked (`SELECT … FOR UPDATE`) while a start checks and increments it, so concurrent starts count exactly.
 */
@Entity({ tableName: 'run_budget_usage' })
@Unique({ name: 'run_budget_usage_company_month_unique', properties: ['companyId', 'month'] })
export class RunBudgetUsage extends TenantEntity {
  /** `YYYY-MM` (UTC). */
  @Property({ length: 7 })
  month: string;

  @Property({ type: 'int' })
  count: Opt<number> = 0;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(month: string) {
    super();
    this.month = month;
  }
}
