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
 *
 * Two scoped read functions for the series (`ScopedReader`: one round trip each, a named prepared statement, no
 * transaction to open): the buckets' edges in the time zone, and the rows a read's plan names.
 */
export class Migration20261207064000_analytics_rollup_spans extends Migration {
  override name = 'Migration20261207064000_analytics_rollup_spans';

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

    // The series read (src/tenancy/analytics-reads.ts): its buckets' edges, then the rows its plan names.
    this.addSql(`create or replace function tenant_analytics_series_edges(p_company uuid, p_tz text,
        p_from timestamptz, p_to timestamptz, p_unit text)
      returns table (edges text)
      language sql stable security invoker as $fn$
      with series as (
        select s as start
        from generate_series(date_trunc('hour', p_from, p_tz), p_to - interval '1 microsecond', interval '1 hour') s
        where p_unit = 'hour'
        union all
        select l at time zone p_tz
        from generate_series(date_trunc(p_unit, p_from at time zone p_tz), (p_to - interval '1 microsecond') at time zone p_tz,
          ('1 ' || p_unit)::interval) l
        where p_unit <> 'hour'
      )
      -- Reads no table; the company argument only keeps the shape of the scoped reads.
      select array_to_string(array_agg((extract(epoch from e) * 1000)::bigint order by e), ',')
      from (
        select start as e from series
        union all
        select case when p_unit = 'hour' then max(start) + interval '1 hour'
          else ((max(start) at time zone p_tz) + ('1 ' || p_unit)::interval) at time zone p_tz end
        from series
      ) x
      where p_company is not null
    $fn$;`);
    this.addSql(`create or replace function tenant_analytics_rollup_rows(p_company uuid, p_template uuid,
        p_spans int[], p_buckets timestamptz[], p_before_day timestamptz)
      returns table (i int, started int, succeeded int, failed int, rejected int, cancelled int, parked_delta int,
        duration_hist text, wait_hist text)
      language plpgsql stable security invoker as $fn$
      begin
        -- The company is the transaction's (set by the tenancy layer from the context), never the argument's alone.
        if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
          return;
        end if;
        return query
          select k.i::int, r.started, r.succeeded, r.failed, r.rejected, r.cancelled, r.parked_delta,
            r.duration_hist, r.wait_hist
          from unnest(p_spans, p_buckets) with ordinality as k(span, bucket, i)
            cross join lateral (
              -- one unique-index probe per key, whatever the statistics say
              select r.started, r.succeeded, r.failed, r.rejected, r.cancelled,
                r.parked_in - r.parked_out as parked_delta,
                array_to_string(r.duration_hist, ',') as duration_hist, array_to_string(r.wait_hist, ',') as wait_hist
              from analytics_run_rollups r
              where r.company_id = p_company and r.template_ref_id = p_template and r.span = k.span
                and r.bucket = k.bucket
              limit 1
            ) r
          union all
          select 0, 0, 0, 0, 0, 0, coalesce(sum(r.parked_in - r.parked_out), 0)::int, null::text, null::text
          from analytics_run_rollups r
          where r.company_id = p_company and r.template_ref_id = p_template and r.span = 1440
            and r.bucket < p_before_day;
      end
    $fn$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(
      `drop function if exists tenant_analytics_rollup_rows(uuid, uuid, int[], timestamptz[], timestamptz);`,
    );
    this.addSql(
      `drop function if exists tenant_analytics_series_edges(uuid, text, timestamptz, timestamptz, text);`,
    );
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
