import { Migration } from '@mikro-orm/migrations';

/** `array[sum(col[1]), …, sum(col[128])]`: the element-wise sum of a group's 128-bucket histograms. */
const summed = (col: string) =>
  `array[${Array.from({ length: 128 }, (_, i) => `sum(${col}[${i + 1}])`).join(', ')}]`;

/**
 * Analytics run rollups at three spans (src/analytics/rollup-terms.ts): every delta is kept in its UTC quarter-hour,
 * hour and day (`span` 15, 60, 1440 minutes), so a read sums about one row per bucket it answers instead of every
 * quarter-hour of its range. The unique key (and the upserts' conflict target) gains `span`; a second index serves
 * reads of every template of a span. The existing quarter-hour rows become `span` 15 and their hours and days are
 * derived here, company by company (inside each company's setting: the table forces row-level security).
 */
export class Migration20261207055737_analytics_rollup_spans extends Migration {
  override name = 'Migration20261207055737_analytics_rollup_spans';

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "analytics_run_rollups" drop constraint "analytics_run_rollups_company_bucket_template_unique";`,
    );
    this.addSql(`drop index "analytics_run_rollups_company_template_bucket_idx";`);
    this.addSql(`alter table "analytics_run_rollups" add "span" smallint not null default 15;`);
    this.addSql(
      `create index "analytics_run_rollups_company_span_bucket_idx" on "analytics_run_rollups" ("company_id", "span", "bucket");`,
    );
    this.addSql(
      `alter table "analytics_run_rollups" add constraint "analytics_run_rollups_company_template_span_bucket_unique" unique ("company_id", "template_ref_id", "span", "bucket");`,
    );
    this.addSql(`do $$
      declare c uuid;
      begin
        for c in select id from companies loop
          perform set_config('app.company_id', c::text, true);
          insert into analytics_run_rollups (company_id, id, span, bucket, template_ref_id, source, template_key,
            template_name, started, succeeded, failed, rejected, cancelled, parked_in, parked_out, duration_hist,
            wait_hist)
          select r.company_id, gen_random_uuid(), s.span,
            to_timestamp(floor(extract(epoch from r.bucket) / (s.span * 60)) * (s.span * 60)), r.template_ref_id,
            max(r.source), (array_agg(r.template_key order by r.bucket desc))[1],
            (array_agg(r.template_name order by r.bucket desc))[1], sum(r.started), sum(r.succeeded), sum(r.failed),
            sum(r.rejected), sum(r.cancelled), sum(r.parked_in), sum(r.parked_out),
            ${summed('r.duration_hist')}, ${summed('r.wait_hist')}
          from analytics_run_rollups r cross join (values (60), (1440)) as s(span)
          where r.company_id = c and r.span = 15
          group by r.company_id, s.span, 4, r.template_ref_id;
        end loop;
        perform set_config('app.company_id', '', true);
      end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`delete from "analytics_run_rollups" where "span" <> 15;`);
    this.addSql(`drop index "analytics_run_rollups_company_span_bucket_idx";`);
    this.addSql(
      `alter table "analytics_run_rollups" drop constraint "analytics_run_rollups_company_template_span_bucket_unique";`,
    );
    this.addSql(`alter table "analytics_run_rollups" drop column "span";`);
    this.addSql(
      `alter table "analytics_run_rollups" add constraint "analytics_run_rollups_company_bucket_template_unique" unique ("company_id", "bucket", "template_ref_id");`,
    );
    this.addSql(
      `create index "analytics_run_rollups_company_template_bucket_idx" on "analytics_run_rollups" ("company_id", "template_ref_id", "bucket");`,
    );
  }
}
