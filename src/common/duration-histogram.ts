/**
 * A fixed-bucket, log-spaced histogram of durations in milliseconds: the mergeable sketch the rollups store per
 * bucket (an `int[]` of HISTOGRAM_SIZE counts). Merging two histograms is adding them element by element, so a
 * percentile over any range comes from the sum of its rows, never from a scan of runs.
 *
 * Bucket 0 holds values below 1 ms; bucket i ≥ 1 holds [2^((i−1)/4), 2^(i/4)) ms (four buckets per doubling, so a
 * reported percentile is within ±9 % of the true value); the last bucket also holds everything above its lower
 * bound (about 34 days).
 */
export const HISTOGRAM_SIZE = 128;
const PER_DOUBLING = 4;

/**
 * The lower bounds of buckets 1 … HISTOGRAM_SIZE − 1: 2^(k/4) ms. SQL finds a value's bucket with
 * `width_bucket(ms, <these thresholds>)` (the number of thresholds ≤ ms), JavaScript with `bucketOf`: the same
 * float8 values on both sides, so a rollup written live and one rebuilt by the backfill agree to the bucket.
 */
export const HISTOGRAM_THRESHOLDS: readonly number[] = Array.from(
  { length: HISTOGRAM_SIZE - 1 },
  (_, k) => 2 ** (k / PER_DOUBLING),
);

/** The bucket a duration falls in: how many thresholds are ≤ it (as SQL's `width_bucket`). */
export function bucketOf(ms: number): number {
  if (Number.isNaN(ms)) return 0;
  let lo = 0;
  let hi = HISTOGRAM_THRESHOLDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (HISTOGRAM_THRESHOLDS[mid] <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A histogram as a PostgreSQL `int[]` literal (`{0,1,…}`). */
export function histogramLiteral(counts: readonly number[]): string {
  return `{${counts.join(',')}}`;
}

/** The value a percentile falling in bucket `i` reports: the bucket's geometric middle (its lower bound for the last). */
export function representative(i: number): number {
  if (i <= 0) return 0;
  if (i >= HISTOGRAM_SIZE - 1) return Math.round(2 ** ((HISTOGRAM_SIZE - 2) / PER_DOUBLING));
  return Math.round(2 ** ((i - 0.5) / PER_DOUBLING));
}

/** An empty histogram. */
export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_SIZE).fill(0);
}

/** The histogram of some durations. */
export function histogramOf(values: readonly number[]): number[] {
  const h = emptyHistogram();
  for (const v of values) h[bucketOf(v)] += 1;
  return h;
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, nearest-rank: the representative value of the bucket holding the
 * ⌈q·n⌉-th smallest value; null when the histogram is empty.
 */
export function quantile(
  counts: readonly (number | string | null)[] | null | undefined,
  q: number,
): number | null {
  if (!counts) return null;
  const values = counts.map((c) => Number(c ?? 0));
  const total = values.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < values.length; i++) {
    seen += values[i];
    if (seen >= rank) return representative(i);
  }
  return representative(values.length - 1);
}
