import { CardsService } from '../boards/cards.service.js';
import { WikiService } from '../wiki/wiki.service.js';
import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { quantile } from '../common/duration-histogram.js';
import { Errors } from '../common/errors/app-error.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { ANALYTICS_STATEMENTS as SQL } from '../tenancy/statements/analytics.js';
import type {
  AnalyticsRangeQueryDto,
  AnalyticsRunsQueryDto,
  ConnectorStatsListDto,
  PercentilesDto,
  RunSeriesDto,
  TemplateStatsListDto,
  UsageDto,
} from './dto/analytics.dto.js';

const DAY_MS = 86_400_000;
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 400;

type Histogram = (number | string | null)[] | null;

interface SeriesRow {
  start: Date | string;
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  cancelled: number;
  parked: number;
  duration_hist: Histogram;
  wait_hist: Histogram;
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

const iso = (at: Date | string) => new Date(at).toISOString();
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
  if (Number.isNaN(to.getTime())) throw Errors.field('to', 'must be an ISO 8601 date-time');
  if (Number.isNaN(from.getTime())) throw Errors.field('from', 'must be an ISO 8601 date-time');
  if (from.getTime() >= to.getTime()) throw Errors.field('from', 'must be before to');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw Errors.field('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
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
  ) {}

  async runs(query: AnalyticsRunsQueryDto): Promise<RunSeriesDto> {
    const { from, to } = parseRange(query);
    const interval = query.interval ?? 'day';
    const timezone = query.timezone ?? 'UTC';
    if (!validTimeZone(timezone))
      throw Errors.field('timezone', 'must be an IANA time zone name (Europe/Berlin)');
    const rows = await this.em.transactional((tx) =>
      scoped<SeriesRow>(tx, SQL.runSeries, [
        timezone,
        from.toISOString(),
        to.toISOString(),
        interval,
        query.templateId ?? null,
      ]),
    );
    return {
      interval,
      timezone,
      buckets: rows.map((r) => ({
        start: iso(r.start),
        started: r.started,
        succeeded: r.succeeded,
        failed: r.failed,
        rejected: r.rejected,
        cancelled: r.cancelled,
        parked: r.parked,
        durationMs: percentiles(r.duration_hist),
        approvalWaitMs: percentiles(r.wait_hist),
      })),
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
