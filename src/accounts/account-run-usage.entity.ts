import type { Opt } from '@mikro-orm/core';
import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../database/base.entity.js';
import { Account } from './account.entity.js';

/**
 * How many runs the companies of one account started in one calendar month (UTC), against the plan's
 * `monthlyRunBudget`: a registry counter (a number, no tenant data), locked `FOR UPDATE` by each run start right
 * after the company's own counter, so concurrent starts in any of the account's companies count exactly.
 */
@Entity({ tableName: 'account_run_usage' })
@Unique({ name: 'account_run_usage_account_month_unique', properties: ['accountId', 'month'] })
export class AccountRunUsage extends BaseEntity {
  @ManyToOne(() => Account, { mapToPk: true, fieldName: 'account_id', deleteRule: 'cascade' })
  accountId: string;

  /** `YYYY-MM` (UTC). */
  @Property({ length: 7 })
  month: string;

  @Property({ type: 'int' })
  count: Opt<number> = 0;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(accountId: string, month: string) {
    super();
    this.accountId = accountId;
    this.month = month;
  }
}
