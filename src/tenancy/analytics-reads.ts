import type { ScopedFunction, ScopedReader } from './scoped-reader.js';

/**
 * The analytics series read: two scoped functions (migration `analytics_rollup_spans`), each one round trip as a
 * named prepared statement through `ScopedReader`, which sets the context's company for the statement; the rows
 * function reads nothing when its company argument differs from that setting (row-level security binds it too).
 */
const EDGES: ScopedFunction = { name: 'tenant_analytics_series_edges', arity: 4 };
const ROWS: ScopedFunction = { name: 'tenant_analytics_rollup_rows', arity: 4 };

/** A rollup row a read's plan names; `i` is its 1-based key, 0 the parked gauge before the first bucket. */
export interface RollupReadRow {
  i: number;
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  cancelled: number;
  parked_delta: number;
  /** The histogram's counts as text: `0,1,0,…`. */
  duration_hist: string | null;
  wait_hist: string | null;
}

/**
 * The edges (epoch ms) of the series' buckets of `unit` in `tz`: from the start of the bucket holding `from` to the
 * end of the last one starting before `to`.
 */
export async function seriesEdges(
  reader: ScopedReader,
  q: { tz: string; from: Date; to: Date; unit: string },
): Promise<number[]> {
  const [row] = await reader.rows<{ edges: string | null }>(EDGES, [
    q.tz,
    q.from.toISOString(),
    q.to.toISOString(),
    q.unit,
  ]);
  return (row?.edges ?? '').split(',').filter(Boolean).map(Number);
}

/** The rollup rows of one template (or the nil UUID: all templates) at the (span, bucket) keys given. */
export function rollupRows(
  reader: ScopedReader,
  q: { templateId: string; keys: readonly { span: number; bucket: number }[]; beforeDay: number },
): Promise<RollupReadRow[]> {
  return reader.rows<RollupReadRow>(ROWS, [
    q.templateId,
    q.keys.map((k) => k.span),
    q.keys.map((k) => new Date(k.bucket).toISOString()),
    new Date(q.beforeDay).toISOString(),
  ]);
}
