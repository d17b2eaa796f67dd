import { ArrayType, type Opt } from '@mikro-orm/core';
import { Entity, Index, Property, Unique } from '@mikro-orm/decorators/legacy';
import { emptyHistogram } from '../common/duration-histogram.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * What happened to a company's runs of one template in one UTC bucket of `span` minutes — a quarter-hour, an hour
 * or a day — kept as the runs change (every delta is added to its bucket of each span, in one statement of the
 * transaction of each transition, see `RunRollups`): counts by outcome, parks and unparks (the parked gauge is
 * their running sum), and mergeable histograms of run durations and approval waits. Every series is a sum and
 * difference of these rows (`rollupTerms`): no read scans runs, and a read touches about one row per bucket it
 * answers. Quarter-hours make bucket edges exact in every time zone in use (all offsets are whole quarter-hours:
 * Asia/Kolkata +05:30, Asia/Kathmandu +05:45); hours and days only make the reads shorter.
 */
@Entity({ tableName: 'analytics_run_rollups' })
@Unique({ name: 'analytics_run_rollups_company_id_id_unique', properties: ['companyId', 'id'] })
@Unique({
  name: 'analytics_run_rollups_company_template_span_bucket_unique',
  properties: ['companyId', 'templateRefId', 'span', 'bucket'],
})
@Index({
  name: 'analytics_run_rollups_company_span_bucket_idx',
  properties: ['companyId', 'span', 'bucket'],
})
export class AnalyticsRunRollup extends TenantEntity {
  /** The bucket's length in minutes: 15, 60 or 1440 (`ROLLUP_SPANS`). */
  @Property({ type: 'smallint', default: 15 })
  span: Opt<number> = 15;

  /** The UTC bucket's start (a multiple of `span` minutes since the epoch). */
  @Property({ type: 'timestamptz' })
  bucket: Date;

  /**
   * The catalog template id, or the draft version id, the runs started from (as `runs.template_ref_id`); the
   * nil UUID (`ALL_TEMPLATES`) for the company's all-templates row, which every delta is added to as well.
   */
  @Property({ type: 'uuid' })
  templateRefId: string;

  @Property({ length: 20 })
  source: string;

  @Property({ length: 100 })
  templateKey: string;

  @Property({ type: 'text' })
  templateName: string;

  /** Runs started (created) in the bucket. */
  @Property({ type: 'int', default: 0 })
  started: Opt<number> = 0;

  /** Runs that reached each final status in the bucket. */
  @Property({ type: 'int', default: 0 })
  succeeded: Opt<number> = 0;

  @Property({ type: 'int', default: 0 })
  failed: Opt<number> = 0;

  @Property({ type: 'int', default: 0 })
  rejected: Opt<number> = 0;

  @Property({ type: 'int', default: 0 })
  cancelled: Opt<number> = 0;

  /** Parks on an approval step in the bucket. */
  @Property({ type: 'int', default: 0 })
  parkedIn: Opt<number> = 0;

  /** Parked runs that left the approval step in the bucket (a verdict, or cancelled while parked). */
  @Property({ type: 'int', default: 0 })
  parkedOut: Opt<number> = 0;

  /** Start-to-end durations of the runs that ended in the bucket (src/common/duration-histogram.ts). */
  @Property({ type: new ArrayType<number>((i) => Number(i)), columnType: 'int[]' })
  durationHist: Opt<number[]> = emptyHistogram();

  /** Park-to-verdict waits of the verdicts given in the bucket. */
  @Property({ type: new ArrayType<number>((i) => Number(i)), columnType: 'int[]' })
  waitHist: Opt<number[]> = emptyHistogram();

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(
    bucket: Date,
    templateRefId: string,
    source: string,
    templateKey: string,
    templateName: string,
  ) {
    super();
    this.bucket = bucket;
    this.templateRefId = templateRefId;
    this.source = source;
    this.templateKey = templateKey;
    this.templateName = templateName;
  }
}
