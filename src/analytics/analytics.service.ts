import { CardsService } from '../boards/cards.service.js';
import { WikiService } from '../wiki/wiki.service.js';
import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { emptyHistogram, quantile } from '../common/duration-histogram.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { ALL_TEMPLATES, ANALYTICS_STATEMENTS as SQL } from '../tenancy/statements/analytics.js';
import { planRollupReads, utcEdges } from './rollup-terms.js';
import { rollupRows, seriesEdges, type RollupReadRow } from '../tenancy/analytics-reads.js';
import { ScopedReader } from '../tenancy/scoped-reader.js';
import type {
  AnalyticsRangeQueryDto,
  AnalyticsRunsQueryDto,
  ConnectorStatsListDto,
  PercentilesDto,
  RunSeriesDto,
  TemplateStatsListDto,
  UsageDto,
} from './dto/analytics.dto.js';
import { AnalyticsErrors } from './analytics.errors.js';
import { isoInstant as iso } from '../database/timestamps.js';

const DAY_MS = 86_400_000;
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 400;

type Histogram = (number | string | null)[] | null;

type RollupRow = RollupReadRow;

/** One answer bucket: its rows added and subtracted (`planRollupReads`). */
interface Combined {
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  cancelled: number;
  parked: number;
  durationHist: number[];
  waitHist: number[];
}

function addHistogram(into: number[], text: string | null, coef: number): void {
  if (!text) return;
  const counts = text.split(',');
  for (let i = 0; i < counts.length && i < into.length; i++) {
    const n = Number(counts[i]);
    if (n !== 0) into[i] += coef * n;
  }
}

function combine(terms: readonly [number, number][], rows: readonly (RollupRow | undefined)[]): Combined {
  const c: Combined = {
    started: 0,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    cancelled: 0,
    parked: 0,
    durationHist: emptyHistogram(),
    waitHist: emptyHistogram(),
  };
  for (const [i, coef] of terms) {
    const r = rows[i];
    if (!r) continue;
    c.started += coef * r.started;
    c.succeeded += coef * r.succeeded;
    c.failed += coef * r.failed;
    c.rejected += coef * r.rejected;
    c.cancelled += coef * r.cancelled;
    c.parked += coef * Number(r.parked_delta);
    addHistogram(c.durationHist, r.duration_hist, coef);
    addHistogram(c.waitHist, r.wait_hist, coef);
  }
  return c;
}

interface TemplateRow {
  template_ref_id: string;
  source: string;
  template_key: string;
  template_name: string;
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  cancelled: number;
  duration_hist: Histogram;
  wait_hist: Histogram;
}

interface ConnectorRow {
  tool_id: string;
  calls: number;
  errors: Record<string, number> | string;
  latency_hist: Histogram;
}

interface UsageRow {
  runs_started: number;
  runs_in_flight: number;
  members: number;
  api_keys: number;
  audit_events: number | string;
  monthly_run_budget: number | null;
  max_concurrent_runs: number;
  month_start: Date | string;
}

const percentiles = (h: Histogram): PercentilesDto => ({ p50: quantile(h, 0.5), p95: quantile(h, 0.95) });

/** An IANA time zone name both Node (ICU) and PostgreSQL know; offsets such as `+05:30` are refused. */
export function validTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The range of a read: `to` defaults to now, `from` to 30 days before `to`; at most 400 days, `from` < `to`. */
export function parseRange(query: AnalyticsRangeQueryDto, now = new Date()): { from: Date; to: Date } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (Number.isNaN(to.getTime())) throw AnalyticsErrors.InvalidDateTime('to');
  if (Number.isNaN(from.getTime())) throw AnalyticsErrors.InvalidDateTime('from');
  if (from.getTime() >= to.getTime()) throw AnalyticsErrors.RangeReversed();
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw AnalyticsErrors.RangeTooLong(MAX_RANGE_DAYS);
  }
  return { from, to };
}

/**
 * The company's analytics, read from the rollups (`RunRollups` keeps them as runs change; the backfill command
 * rebuilds them): sums of pre-aggregated rows, so a read costs the same whatever the company's run count. Each read
 * is one statement in a transaction of the caller's company (row-level security applies).
 */
@Injectable()
export class AnalyticsService {
  constructor(
    private readonly em: EntityManager,
    private readonly wiki: WikiService,
    private readonly cards: CardsService,
    private readonly reader: ScopedReader,
  ) {}

  async runs(query: AnalyticsRunsQueryDto): Promise<RunSeriesDto> {
    const { from, to } = parseRange(query);
    const interval = query.interval ?? 'day';
    const timezone = query.timezone ?? 'UTC';
    if (!validTimeZone(timezone)) throw AnalyticsErrors.UnknownTimeZone();
    // One or two round trips, no transaction: the buckets' edges in the time zone (UTC's are computed here), then
    // the rollup rows they need.
    const edges =
      timezone === 'UTC'
        ? utcEdges(from, to, interval)
        : await seriesEdges(this.reader, { tz: timezone, from, to, unit: interval });
    const plan = planRollupReads(edges);
    const rows = await rollupRows(this.reader, {
      templateId: query.templateId ?? ALL_TEMPLATES,
      keys: plan.keys,
      beforeDay: plan.firstDay,
    });
    const byKey = new Array<RollupRow | undefined>(plan.keys.length);
    let parked = 0;
    for (const row of rows) {
      if (row.i === 0) parked += Number(row.parked_delta);
      else byKey[row.i - 1] = row;
    }
    const slots = plan.slots.map((terms) => combine(terms, byKey));
    parked += slots[0].parked;
    return {
      interval,
      timezone,
      buckets: slots.slice(1).map((b, k) => {
        parked += b.parked;
        return {
          start: new Date(edges[k]).toISOString(),
          started: b.started,
          succeeded: b.succeeded,
          failed: b.failed,
          rejected: b.rejected,
          cancelled: b.cancelled,
          parked,
          durationMs: percentiles(b.durationHist),
          approvalWaitMs: percentiles(b.waitHist),
        };
      }),
    };
  }

  async templates(query: AnalyticsRangeQueryDto): Promise<TemplateStatsListDto> {
    const { from, to } = parseRange(query);
    const rows = await this.em.transactional((tx) =>
      scoped<TemplateRow>(tx, SQL.templateTotals, [from.toISOString(), to.toISOString()]),
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      data: rows.map((r) => {
        const finished = r.succeeded + r.failed + r.rejected + r.cancelled;
        return {
          templateId: r.template_ref_id,
          source: r.source,
          templateKey: r.template_key,
          name: r.template_name,
          runs: r.started,
          finished,
          succeeded: r.succeeded,
          successRate: finished === 0 ? null : r.succeeded / finished,
          medianDurationMs: quantile(r.duration_hist, 0.5),
          medianApprovalWaitMs: quantile(r.wait_hist, 0.5),
        };
      }),
    };
  }

  async connectors(query: AnalyticsRangeQueryDto): Promise<ConnectorStatsListDto> {
    const { from, to } = parseRange(query);
    const rows = await this.em.transactional((tx) =>
      scoped<ConnectorRow>(tx, SQL.connectorTotals, [from.toISOString(), to.toISOString()]),
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      data: rows.map((r) => {
        const errorsByReason = (typeof r.errors === 'string' ? JSON.parse(r.errors) : r.errors) as Record<
          string,
          number
        >;
        return {
          toolId: r.tool_id,
          calls: r.calls,
          errors: Object.values(errorsByReason).reduce((a, b) => a + Number(b), 0),
          errorsByReason,
          latencyMs: percentiles(r.latency_hist),
        };
      }),
    };
  }

  async usage(): Promise<UsageDto> {
    const [[row], wikiPages, cards] = await Promise.all([
      this.em.transactional((tx) => scoped<UsageRow>(tx, SQL.usage, [])),
      this.wiki.count(),
      this.cards.count(),
    ]);
    if (!row) throw new Error('the usage statement answered no row');
    return {
      month: iso(row.month_start),
      runsStarted: row.runs_started,
      monthlyRunBudget: row.monthly_run_budget,
      runsInFlight: row.runs_in_flight,
      maxConcurrentRuns: row.max_concurrent_runs,
      members: row.members,
      apiKeys: row.api_keys,
      auditEvents: Number(row.audit_events),
      wikiPages,
      cards,
    };
  }
}
