/**
 * How a read turns its buckets into rollup rows (pure; src/analytics/rollup-terms.spec.ts).
 *
 * The rollups keep every delta three times: in its UTC quarter-hour, hour and day (`ROLLUP_SPANS`). Counters and
 * histograms are sums of non-negative integers, so they add and subtract exactly: the sum over any quarter-aligned
 * interval [a, b) is the sum of the whole UTC days between the days nearest to a and b, corrected at each end by
 * the signed sum between that day edge and the end (whole hours to the nearest hour, then quarter-hours):
 *
 *     sum[a, b) = days[D(a), D(b)) + C(b) − C(a),   C(e) = sum[D(e), e) = ±hours[D(e), H(e)) ± quarters[H(e), e)
 *
 * with D and H rounding to the nearest day and hour. A UTC day is one row; a day in Europe/Berlin one row plus an
 * hour at each edge; in Asia/Kolkata (+05:30) one row plus six hours and a quarter-hour or two at each edge.
 * What a read costs follows its number of buckets, never the company's run count (a dense tenant has a rollup row
 * in every quarter-hour, 8,640 in 90 days; its daily series reads about 90).
 *
 * Bucket edges that are not on a quarter-hour (historic local mean times) are moved up to the next quarter-hour:
 * each quarter-hour counts in the bucket its start falls in, as before.
 */
export const QUARTER_MIN = 15;
export const HOUR_MIN = 60;
export const DAY_MIN = 1440;
/** The spans, in minutes, every delta is added to. */
export const ROLLUP_SPANS = [QUARTER_MIN, HOUR_MIN, DAY_MIN] as const;

const MIN_MS = 60_000;
const QUARTER_MS = QUARTER_MIN * MIN_MS;
const HOUR_MS = HOUR_MIN * MIN_MS;
const DAY_MS = DAY_MIN * MIN_MS;

/** One rollup row a read needs: its span (minutes) and its bucket's start (epoch ms). */
export interface RollupKey {
  span: number;
  bucket: number;
}

/**
 * A read's plan: the distinct rows to fetch (`keys`), and for each answer slot the rows it adds or subtracts
 * (`slots[i]`: pairs of an index into `keys` and a coefficient, +1 or −1, never 0).
 */
export interface RollupPlan {
  keys: RollupKey[];
  slots: [number, number][][];
}

/** Moves an instant up to the next quarter-hour (unchanged when on one). */
export function ceilQuarter(ms: number): number {
  return Math.ceil(ms / QUARTER_MS) * QUARTER_MS;
}

const nearest = (ms: number, unit: number) => Math.round(ms / unit) * unit;

type Terms = Map<string, number>;

function add(terms: Terms, span: number, from: number, to: number, sign: number): void {
  // Adds sign × sum[from, to) in rows of `span` (from and to are multiples of it); a reversed interval subtracts.
  const unit = span * MIN_MS;
  const [lo, hi, s] = from <= to ? [from, to, sign] : [to, from, -sign];
  for (let t = lo; t < hi; t += unit) {
    const key = `${span}:${t}`;
    const c = (terms.get(key) ?? 0) + s;
    if (c === 0) terms.delete(key);
    else terms.set(key, c);
  }
}

/** sign × C(e) = sign × sum[D(e), e). */
function edge(terms: Terms, e: number, sign: number): void {
  const d = nearest(e, DAY_MS);
  const h = nearest(e, HOUR_MS);
  add(terms, HOUR_MIN, d, h, sign);
  add(terms, QUARTER_MIN, h, e, sign);
}

/**
 * The fewest rows for sum[a, b) of three ways: whole days with their edges corrected (a day, a week, a month), whole
 * hours with theirs (an hour, a few hours), or quarter-hours alone (less than an hour).
 */
function interval(a: number, b: number): Terms {
  const byDays: Terms = new Map();
  add(byDays, DAY_MIN, nearest(a, DAY_MS), nearest(b, DAY_MS), 1);
  edge(byDays, b, 1);
  edge(byDays, a, -1);
  const byHours: Terms = new Map();
  const ha = nearest(a, HOUR_MS);
  const hb = nearest(b, HOUR_MS);
  add(byHours, HOUR_MIN, ha, hb, 1);
  add(byHours, QUARTER_MIN, hb, b, 1);
  add(byHours, QUARTER_MIN, ha, a, -1);
  const byQuarters: Terms = new Map();
  if (b - a <= 4 * QUARTER_MS) add(byQuarters, QUARTER_MIN, a, b, 1);
  const options = byQuarters.size > 0 ? [byDays, byHours, byQuarters] : [byDays, byHours];
  return options.reduce((best, o) => (o.size < best.size ? o : best));
}

/**
 * The plan for the intervals [edges[i], edges[i+1]) (`edges` ascending, epoch ms; each moved up to a quarter-hour):
 * slot i + 1 for interval i. Slot 0 is C(edges[0]), which the caller adds to the sum of the day rows before
 * D(edges[0]) (`firstDay`) to get everything before the first edge (the parked gauge's starting point).
 */
export function planRollupReads(edges: readonly number[]): RollupPlan & { firstDay: number } {
  const q = edges.map(ceilQuarter);
  const slotTerms: Terms[] = [];
  const before: Terms = new Map();
  if (q.length > 0) edge(before, q[0], 1);
  slotTerms.push(before);
  for (let i = 0; i + 1 < q.length; i++) slotTerms.push(interval(q[i], q[i + 1]));
  const keys: RollupKey[] = [];
  const index = new Map<string, number>();
  const slots = slotTerms.map((terms) =>
    [...terms].map(([key, coef]): [number, number] => {
      let i = index.get(key);
      if (i === undefined) {
        const [span, bucket] = key.split(':').map(Number);
        i = keys.push({ span, bucket }) - 1;
        index.set(key, i);
      }
      return [i, coef];
    }),
  );
  return { keys, slots, firstDay: q.length > 0 ? nearest(q[0], DAY_MS) : 0 };
}

/**
 * The edges of a series in UTC, computed here (no round trip): the start of the hour, day, ISO week (Monday) or
 * month holding `from`, each next start up to the last one before `to`, then that bucket's end. The same edges as
 * PostgreSQL's `date_trunc` in UTC (the `tenant_analytics_series_edges` function answers every other zone).
 */
export function utcEdges(from: Date, to: Date, unit: 'hour' | 'day' | 'week' | 'month'): number[] {
  const d = new Date(from.getTime());
  d.setUTCMinutes(0, 0, 0);
  if (unit !== 'hour') d.setUTCHours(0);
  if (unit === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (unit === 'month') d.setUTCDate(1);
  const next = (t: Date) => {
    const n = new Date(t.getTime());
    if (unit === 'hour') n.setUTCHours(n.getUTCHours() + 1);
    else if (unit === 'day') n.setUTCDate(n.getUTCDate() + 1);
    else if (unit === 'week') n.setUTCDate(n.getUTCDate() + 7);
    else n.setUTCMonth(n.getUTCMonth() + 1);
    return n;
  };
  const edges = [d.getTime()];
  for (let t = next(d); edges[edges.length - 1] < to.getTime(); t = next(t)) edges.push(t.getTime());
  return edges;
}
