import { stringify } from 'csv-stringify/sync';
import type {
  ConnectorStatsListDto,
  RunSeriesDto,
  TemplateStatsListDto,
  UsageDto,
} from './dto/analytics.dto.js';

type Cell = string | number | null;

function csv(columns: string[], rows: Cell[][]): string {
  // escape_formulas: a cell starting with = + - @ (a template name, a tool id) is not run by a spreadsheet.
  return stringify(rows, {
    header: true,
    columns,
    escape_formulas: true,
    cast: { number: (n) => String(n) },
  });
}

/** The same rows as the JSON answers, one line each, nested values flattened (`durationMsP50`). */
export const toCsv = {
  runs: (s: RunSeriesDto): string =>
    csv(
      [
        'start',
        'started',
        'succeeded',
        'failed',
        'rejected',
        'cancelled',
        'parked',
        'durationMsP50',
        'durationMsP95',
        'approvalWaitMsP50',
        'approvalWaitMsP95',
      ],
      s.buckets.map((b) => [
        b.start,
        b.started,
        b.succeeded,
        b.failed,
        b.rejected,
        b.cancelled,
        b.parked,
        b.durationMs.p50,
        b.durationMs.p95,
        b.approvalWaitMs.p50,
        b.approvalWaitMs.p95,
      ]),
    ),
  templates: (l: TemplateStatsListDto): string =>
    csv(
      [
        'templateId',
        'source',
        'templateKey',
        'name',
        'runs',
        'finished',
        'succeeded',
        'successRate',
        'medianDurationMs',
        'medianApprovalWaitMs',
      ],
      l.data.map((t) => [
        t.templateId,
        t.source,
        t.templateKey,
        t.name,
        t.runs,
        t.finished,
        t.succeeded,
        t.successRate,
        t.medianDurationMs,
        t.medianApprovalWaitMs,
      ]),
    ),
  connectors: (l: ConnectorStatsListDto): string =>
    csv(
      ['toolId', 'calls', 'errors', 'errorsByReason', 'latencyMsP50', 'latencyMsP95'],
      l.data.map((c) => [
        c.toolId,
        c.calls,
        c.errors,
        JSON.stringify(c.errorsByReason),
        c.latencyMs.p50,
        c.latencyMs.p95,
      ]),
    ),
  usage: (u: UsageDto): string => csv(Object.keys(u), [Object.values(u) as Cell[]]),
};
