import { ArrayType, type Opt } from '@mikro-orm/core';
import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { emptyHistogram } from '../common/duration-histogram.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * A company's connector calls of one tool id in one UTC quarter-hour, counted as each call's outcome is recorded
 * on its run step (`RunStepper`): calls, errors by reason, and a mergeable histogram of what the calls took.
 */
@Entity({ tableName: 'analytics_connector_rollups' })
@Unique({ name: 'analytics_connector_rollups_company_id_id_unique', properties: ['companyId', 'id'] })
@Unique({
  name: 'analytics_connector_rollups_company_bucket_tool_unique',
  properties: ['companyId', 'bucket', 'toolId'],
})
export class AnalyticsConnectorRollup extends TenantEntity {
  @Property({ type: 'timestamptz' })
  bucket: Date;

  @Property({ length: 100 })
  toolId: string;

  @Property({ type: 'int', default: 0 })
  calls: Opt<number> = 0;

  /** Failed calls by reason (`timeout`, `http_error`, …): `{ reason: count }`. */
  @Property({ type: 'jsonb', defaultRaw: "'{}'::jsonb" })
  errors: Opt<Record<string, number>> = {};

  @Property({ type: new ArrayType<number>((i) => Number(i)), columnType: 'int[]' })
  latencyHist: Opt<number[]> = emptyHistogram();

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(bucket: Date, toolId: string) {
    super();
    this.bucket = bucket;
    this.toolId = toolId;
  }
}
