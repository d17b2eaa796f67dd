import type { Opt } from '@mikro-orm/core';
import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import type { DlpRule } from './dlp-scan.js';

/**
 * A company's data-loss-prevention policy: at most one row per company (`UNIQUE (company_id)`), created by the
 * first `PUT /v1/dlp-policy`. No row reads as an empty policy.
 */
@Entity({ tableName: 'dlp_policies' })
@Unique({ name: 'dlp_policies_company_id_id_unique', properties: ['companyId', 'id'] })
@Unique({ name: 'dlp_policies_company_unique', properties: ['companyId'] })
export class DlpPolicy extends TenantEntity {
  @Property({ type: 'jsonb' })
  rules: DlpRule[];

  /** Counts the changes (1 after the first PUT). */
  @Property({ type: 'integer', default: 1 })
  version: Opt<number> = 1;

  /** The principal of the last change. */
  @Property({ length: 100 })
  updatedBy: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(rules: DlpRule[], updatedBy: string) {
    super();
    this.rules = rules;
    this.updatedBy = updatedBy;
  }
}
