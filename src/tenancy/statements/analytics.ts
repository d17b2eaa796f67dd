/**
 * The analytics rollups' hand-written statements (reviewed here, run through `scoped(...)`): the upsert-increments
 * that keep the rollups as runs change, the reads that merge them, and the backfill that rebuilds them from runs.
 * Every statement's first placeholder is the context's company and every tenant table is filtered on it.
 *
 * Histograms are `int[]` of HISTOGRAM_SIZE counts (src/common/duration-histogram.ts); merging is element-wise
 * addition. Rollup buckets are UTC quarter-hours (every time zone in use has an offset in whole quarter-hours).
 */
import { HISTOGRAM_SIZE, HISTOGRAM_THRESHOLDS } from '../../common/duration-histogram.js';
import { DAY_MIN, ROLLUP_SPANS } from '../../analytics/rollup-terms.js';
import { companyStatement, type CompanyStatement } from '../scoped-sql.js';

const THRESHOLDS = `'{${HISTOGRAM_THRESHOLDS.map((t) => String(t)).join(',')}}'::float8[]`;
const ZEROS = `array_fill(0, array[${HISTOGRAM_SIZE}])`;

/** `a + b` element-wise for two histograms (of the same length). */
const merged = (a: string, b: string) =>
  `(select array_agg(x + y order by i) from unnest(${a}, ${b}) with ordinality as u(x, y, i))`;

/** `array[sum(col[1]), …, sum(col[N])]`: the merge of a group's histograms. */
const summed = (col: string) =>
  `array[${Array.from({ length: HISTOGRAM_SIZE }, (_, i) => `sum(${col}[${i + 1}])`).join(', ')}]`;

/** The start of the UTC bucket of `span` minutes (an SQL expression) a timestamp falls in. */
const spanBucket = (ts: string, span: string) =>
  `to_timestamp(floor(extract(epoch from ${ts}) / (${span} * 60)) * (${span} * 60))`;

const SPANS = ROLLUP_SPANS;

/** A timestamp moved down (`floor`) or up (`ceil`) to a multiple of `seconds` since the epoch. */
const edge = (ts: string, seconds: number, round: 'ceil' | 'floor') =>
  `to_timestamp(${round}(extract(epoch from ${ts}) / ${seconds}) * ${seconds})`;
const DAY = DAY_MIN;

/**
 * The template id of a company's all-templates rollup row: every delta is added to its template's row and to this
 * one, so a series without `templateId` reads one row per quarter-hour, whatever the number of templates.
 */
export const ALL_TEMPLATES = '00000000-0000-0000-0000-000000000000';
const ALL = `'${ALL_TEMPLATES}'::uuid`;

export const ANALYTICS_STATEMENTS = {
  /**
   * Adds one delta to the run rollups of its template and of the company's all-templates row, in its UTC bucket of
   * each span (quarter-hour, hour, day: six rows, one statement, locked in a fixed order): counters and histograms
   * add up; key and name follow the latest run. Args: at, templateRefId, source, templateKey, templateName,
   * started, succeeded, failed, rejected, cancelled, parkedIn, parkedOut, durationHist, waitHist.
   */
  addRunRollup: companyStatement(
    'analytics.run_rollup_add',
    `with d as (
        select ?::uuid as company_id, ?::timestamptz as at, ?::uuid as template_ref_id, ?::text as source,
          ?::text as template_key, ?::text as template_name, ?::int as started, ?::int as succeeded, ?::int as failed,
          ?::int as rejected, ?::int as cancelled, ?::int as parked_in, ?::int as parked_out,
          ?::int[] as duration_hist, ?::int[] as wait_hist
      )
      insert into analytics_run_rollups as r (company_id, id, span, bucket, template_ref_id, source, template_key,
        template_name, started, succeeded, failed, rejected, cancelled, parked_in, parked_out, duration_hist, wait_hist)
      select d.company_id, gen_random_uuid(), s.span, ${spanBucket('d.at', 's.span')}, t.template_ref_id, t.source,
        t.template_key, t.template_name, d.started, d.succeeded, d.failed, d.rejected, d.cancelled, d.parked_in,
        d.parked_out, d.duration_hist, d.wait_hist
      from d cross join (values ${SPANS.map((x) => `(${x})`).join(', ')}) as s(span)
        cross join lateral (values (d.template_ref_id, d.source, d.template_key, d.template_name),
          (${ALL}, 'all', '*', '')) as t(template_ref_id, source, template_key, template_name)
      order by t.template_ref_id, s.span
      on conflict (company_id, template_ref_id, span, bucket) do update set
        template_key = excluded.template_key, template_name = excluded.template_name,
        started = r.started + excluded.started, succeeded = r.succeeded + excluded.succeeded,
        failed = r.failed + excluded.failed, rejected = r.rejected + excluded.rejected,
        cancelled = r.cancelled + excluded.cancelled, parked_in = r.parked_in + excluded.parked_in,
        parked_out = r.parked_out + excluded.parked_out,
        duration_hist = ${merged('r.duration_hist', 'excluded.duration_hist')},
        wait_hist = ${merged('r.wait_hist', 'excluded.wait_hist')},
        updated_at = now()`,
  ),

  /**
   * Counts one connector call in the rollup of (bucket, tool): calls, errors by reason (`jsonb` counts), latency.
   * Args: id, bucket, toolId, errorReason (null when it succeeded), latencyHist.
   */
  addConnectorCall: companyStatement(
    'analytics.connector_call_add',
    `with c as (
        select ?::uuid as company_id, ?::uuid as id, ?::timestamptz as bucket, ?::text as tool_id, ?::text as reason,
          ?::int[] as hist
      )
      insert into analytics_connector_rollups as r (company_id, id, bucket, tool_id, calls, errors, latency_hist)
      select c.company_id, c.id, c.bucket, c.tool_id, 1,
        case when c.reason is null then '{}'::jsonb else jsonb_build_object(c.reason, 1) end, c.hist
      from c
      on conflict (company_id, bucket, tool_id) do update set
        calls = r.calls + 1,
        errors = r.errors || (select coalesce(jsonb_object_agg(x.k, coalesce((r.errors ->> x.k)::int, 0) + x.v::int), '{}'::jsonb)
                              from jsonb_each_text(excluded.errors) as x(k, v)),
        latency_hist = ${merged('r.latency_hist', 'excluded.latency_hist')},
        updated_at = now()`,
  ),

  /**
   * Per template over [from, to) (each moved up to a quarter-hour): counts and merged histograms, from the whole
   * UTC days inside the range, the whole hours inside what is left, and the quarter-hours of the rest. Args: from, to.
   */
  templateTotals: companyStatement(
    'analytics.template_totals',
    `select r.template_ref_id, max(r.source) as source, max(r.template_key) as template_key,
        (array_agg(r.template_name order by r.bucket + r.span * interval '1 minute' desc))[1] as template_name,
        sum(r.started)::int as started, sum(r.succeeded)::int as succeeded, sum(r.failed)::int as failed,
        sum(r.rejected)::int as rejected, sum(r.cancelled)::int as cancelled,
        ${summed('r.duration_hist')} as duration_hist, ${summed('r.wait_hist')} as wait_hist
      from (select ?::uuid as company_id, ${edge('?::timestamptz', 900, 'ceil')} as lo,
          ${edge('?::timestamptz', 900, 'ceil')} as hi) p0
        cross join lateral (select p0.*, ${edge('p0.lo', 3600, 'ceil')} as hour_lo, ${edge('p0.hi', 3600, 'floor')} as hour_hi,
          ${edge('p0.lo', 86400, 'ceil')} as day_lo, ${edge('p0.hi', 86400, 'floor')} as day_hi) p
        join analytics_run_rollups r on r.company_id = p.company_id and r.template_ref_id <> ${ALL} and (
          (r.span = ${DAY} and r.bucket >= p.day_lo and r.bucket + interval '1 day' <= p.day_hi)
          or (r.span = 60 and r.bucket >= p.hour_lo and r.bucket + interval '1 hour' <= p.hour_hi
            and not (p.day_lo < p.day_hi and r.bucket >= p.day_lo and r.bucket < p.day_hi))
          or (r.span = 15 and r.bucket >= p.lo and r.bucket < p.hi
            and not (p.hour_lo < p.hour_hi and r.bucket >= p.hour_lo and r.bucket < p.hour_hi)))
      group by r.template_ref_id
      order by sum(r.started) desc, max(r.template_key), r.template_ref_id`,
  ),

  /** Per connector (tool id) over [from, to): calls, errors by reason, merged latency. Args: from, to. */
  connectorTotals: companyStatement(
    'analytics.connector_totals',
    `with rows as (
        select r.* from analytics_connector_rollups r
        where r.company_id = ? and r.bucket >= ?::timestamptz and r.bucket < ?::timestamptz
      ),
      errs as (
        select tool_id, jsonb_object_agg(k, n) as errors
        from (select r.tool_id, x.k, sum(x.v::int) as n from rows r, jsonb_each_text(r.errors) as x(k, v) group by 1, 2) e
        group by tool_id
      )
      select r.tool_id, sum(r.calls)::int as calls, coalesce(max(e.errors::text), '{}')::jsonb as errors,
        ${summed('r.latency_hist')} as latency_hist
      from rows r left join errs e on e.tool_id = r.tool_id
      group by r.tool_id
      order by sum(r.calls) desc, r.tool_id`,
  ),

  /**
   * This UTC month's usage: runs started (rollups), running runs, active members, live API keys, audit events
   * (the chain's length), and the company's budget and cap. Args: none.
   */
  usage: companyStatement(
    'analytics.usage',
    `with p as (select ?::uuid as company_id, date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' as month_start)
      select
        (select coalesce(sum(r.started), 0) from analytics_run_rollups r
          where r.company_id = p.company_id and r.template_ref_id = ${ALL} and r.span = ${DAY}
            and r.bucket >= p.month_start)::int as runs_started,
        (select count(*) from runs r where r.company_id = p.company_id and r.status = 'running')::int as runs_in_flight,
        (select count(*) from memberships m where m.company_id = p.company_id)::int as members,
        (select count(*) from api_keys k where k.company_id = p.company_id and k.revoked_at is null
          and (k.expires_at is null or k.expires_at > now()))::int as api_keys,
        (select coalesce(max(h.seq), 0) from audit_chain_heads h where h.company_id = p.company_id)::bigint as audit_events,
        (select c.monthly_run_budget from companies c where c.id = p.company_id) as monthly_run_budget,
        (select c.max_concurrent_runs from companies c where c.id = p.company_id) as max_concurrent_runs,
        p.month_start
      from p`,
  ),

  /**
   * Holds the company's audit chain head for the rest of the transaction: every live rollup write happens after
   * its transition's audit append, under that lock, so a backfill holding it sees every committed transition and
   * none commits during it. Args: none.
   */
  lockForRebuild: companyStatement(
    'analytics.lock_for_rebuild',
    `select 1 as locked from audit_chain_heads h where h.company_id = ? for update`,
  ),

  /** Deletes the company's run rollups (the backfill's first statement, in its transaction). Args: none. */
  deleteRunRollups: companyStatement(
    'analytics.run_rollups_delete',
    `with removed as (delete from analytics_run_rollups r where r.company_id = ? returning 1)
      select count(*)::int as removed from removed`,
  ),

  /**
   * Rebuilds the company's run rollups from its runs and their approval steps (the backfill, after
   * `deleteRunRollups`): one row per (span, bucket, template) with exactly what the live hook would have added.
   * Args: none.
   */
  rebuildRunRollups: companyStatement(
    'analytics.run_rollups_rebuild',
    `with c as (select ?::uuid as company_id),
      ev as (
        select r.template_ref_id, r.source, r.template_key, r.template_name, r.created_at as at,
          1 as started, 0 as succeeded, 0 as failed, 0 as rejected, 0 as cancelled, 0 as parked_in, 0 as parked_out,
          null::numeric as duration_ms, null::numeric as wait_ms
        from c join runs r on r.company_id = c.company_id
        union all
        select r.template_ref_id, r.source, r.template_key, r.template_name, r.finished_at,
          0, (r.status = 'succeeded')::int, (r.status = 'failed')::int, (r.status = 'rejected')::int,
          (r.status = 'cancelled')::int, 0, 0, extract(epoch from r.finished_at - r.created_at) * 1000, null
        from c join runs r on r.company_id = c.company_id
        where r.finished_at is not null and r.status in ('succeeded', 'failed', 'rejected', 'cancelled')
        union all
        select r.template_ref_id, r.source, r.template_key, r.template_name, s.started_at,
          0, 0, 0, 0, 0, 1, 0, null, null
        from c join run_steps s on s.company_id = c.company_id
          join runs r on r.company_id = s.company_id and r.id = s.run_id
        where s.kind = 'approval' and s.started_at is not null
        union all
        select r.template_ref_id, r.source, r.template_key, r.template_name, s.finished_at,
          0, 0, 0, 0, 0, 0, 1, null,
          case when s.status in ('approved', 'rejected') then extract(epoch from s.finished_at - s.started_at) * 1000 end
        from c join run_steps s on s.company_id = c.company_id
          join runs r on r.company_id = s.company_id and r.id = s.run_id
        where s.kind = 'approval' and s.started_at is not null and s.finished_at is not null
      ),
      evx as (
        select * from ev
        union all
        select ${ALL}, 'all', '*', '', at, started, succeeded, failed, rejected, cancelled, parked_in, parked_out,
          duration_ms, wait_ms
        from ev
      ),
      b as (
        select s.span, ${spanBucket('evx.at', 's.span')} as bucket, evx.*
        from evx cross join (values ${SPANS.map((x) => `(${x})`).join(', ')}) as s(span)
      ),
      groups as (
        select span, bucket, template_ref_id, max(source) as source,
          (array_agg(template_key order by at desc))[1] as template_key,
          (array_agg(template_name order by at desc))[1] as template_name,
          sum(started)::int as started, sum(succeeded)::int as succeeded, sum(failed)::int as failed,
          sum(rejected)::int as rejected, sum(cancelled)::int as cancelled,
          sum(parked_in)::int as parked_in, sum(parked_out)::int as parked_out
        from b group by span, bucket, template_ref_id
      ),
      dh as (
        select span, bucket, template_ref_id, width_bucket(duration_ms::float8, ${THRESHOLDS}) as i, count(*)::int as n
        from b where duration_ms is not null group by 1, 2, 3, 4
      ),
      wh as (
        select span, bucket, template_ref_id, width_bucket(wait_ms::float8, ${THRESHOLDS}) as i, count(*)::int as n
        from b where wait_ms is not null group by 1, 2, 3, 4
      ),
      dha as (
        select g.span, g.bucket, g.template_ref_id, array_agg(coalesce(dh.n, 0) order by k) as h
        from (select distinct span, bucket, template_ref_id from dh) g cross join generate_series(0, ${HISTOGRAM_SIZE - 1}) k
          left join dh on dh.span = g.span and dh.bucket = g.bucket and dh.template_ref_id = g.template_ref_id
            and dh.i = k
        group by g.span, g.bucket, g.template_ref_id
      ),
      wha as (
        select g.span, g.bucket, g.template_ref_id, array_agg(coalesce(wh.n, 0) order by k) as h
        from (select distinct span, bucket, template_ref_id from wh) g cross join generate_series(0, ${HISTOGRAM_SIZE - 1}) k
          left join wh on wh.span = g.span and wh.bucket = g.bucket and wh.template_ref_id = g.template_ref_id
            and wh.i = k
        group by g.span, g.bucket, g.template_ref_id
      ),
      inserted as (
        insert into analytics_run_rollups (company_id, id, span, bucket, template_ref_id, source, template_key, template_name,
          started, succeeded, failed, rejected, cancelled, parked_in, parked_out, duration_hist, wait_hist)
        select c.company_id, gen_random_uuid(), g.span, g.bucket, g.template_ref_id, g.source, g.template_key, g.template_name,
          g.started, g.succeeded, g.failed, g.rejected, g.cancelled, g.parked_in, g.parked_out,
          coalesce(dha.h, ${ZEROS}), coalesce(wha.h, ${ZEROS})
        from c, groups g
          left join dha on dha.span = g.span and dha.bucket = g.bucket and dha.template_ref_id = g.template_ref_id
          left join wha on wha.span = g.span and wha.bucket = g.bucket and wha.template_ref_id = g.template_ref_id
        returning 1
      )
      select count(*)::int as inserted from inserted`,
  ),
} satisfies Record<string, CompanyStatement>;
