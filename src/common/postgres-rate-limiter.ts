import {
  MemoryRateLimiter,
  WINDOW_MS,
  windowState,
  type Bucket,
  type RateLimiter,
  type RateLimitState,
} from './rate-limiter.js';

/** A count a shared store answered: the key's count in its current window, and when that window started (epoch ms). */
export interface StoredCount {
  count: number;
  windowStart: number;
}

/**
 * The shared counters of `PostgresRateLimiter`: `hit` counts `keys` in order, one each, each in its own window
 * (opened by the key's first request, lasting a minute), stopping after the first count over its limit, and returns
 * the counts made; `add` adds counts made elsewhere to the windows that started at `starts` (a window that has
 * since ended is left alone) and returns each key's current count; `sweep` deletes the windows that started before
 * `before`.
 */
export interface CounterStore {
  hit(keys: readonly string[], limits: readonly number[]): Promise<StoredCount[]>;
  add(keys: readonly string[], counts: readonly number[], starts: readonly number[]): Promise<StoredCount[]>;
  sweep(before: number): Promise<void>;
  close?(): Promise<void>;
}

/** One key's window as this instance knows it. */
interface SharedWindow {
  /** When the store opened the window (epoch ms). */
  start: number;
  /** The store's count at its latest answer (every instance's counts it had received). */
  known: number;
  /** Counted here, not yet sent to the store. */
  pending: number;
  /** Counted here, in the batch on its way to the store. */
  sending: number;
  /** The key's place in the requests that counted it (a person's bucket before the company's): the batch's order. */
  rank: number;
}

/** How often the counts made locally go to the store. */
const FLUSH_MS = 100;
/** How long closing waits for the last batch. */
const CLOSE_FLUSH_MS = 2_000;

/**
 * The part of a limit counted in the store request by request: a window is counted locally only while what this
 * instance knows of it leaves more than this many requests (a tenth of the limit, at least 20), so small limits
 * are always exact.
 */
function exactStretch(limit: number): number {
  return Math.max(20, Math.ceil(limit / 10));
}

/**
 * Windows shared by every instance through PostgreSQL (when no Redis is configured), in `rate_limits.counters`
 * (an UNLOGGED table, one row per key). A key's first request in a window, and every request in the last tenth of
 * its limit, is counted in the database (`rate_limits.hit`, one round trip, exact); in between, requests are
 * counted in memory against the count the database last answered and sent in batches every 100 ms
 * (`rate_limits.add`), which answer every instance's counts back. So the common request costs no round trip, and
 * the limit can be passed only by what other instances count in one batch interval beyond that last tenth.
 * Each instance deletes the windows that ended over a minute ago once a minute. If the database refuses, the
 * instance counts in its own memory rather than failing requests, and says so in the log (each kind of failure at most once a minute).
 */
export class PostgresRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, SharedWindow>();
  /** Counts made while the store refused (the fallback). */
  private readonly local = new MemoryRateLimiter();
  private nextSweep = 0;
  /** When each kind of failure may be logged again. */
  private readonly nextWarning = new Map<'hit' | 'add' | 'sweep', number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: CounterStore,
    private readonly warn: (message: string) => void,
  ) {}

  async hit(key: string, limit: number): Promise<RateLimitState> {
    return (await this.hitAll([{ key, limit }]))[0];
  }

  hitAll(buckets: readonly Bucket[]): Promise<RateLimitState[]> {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now);
    const windows = buckets.map((b) => this.countable(b, now));
    if (windows.every((w) => w !== undefined)) {
      // Far from every limit: counted here, sent with the next batch.
      const states = buckets.map((b, i) => {
        const w = windows[i];
        w.pending++;
        return windowState(total(w), b.limit, w.start, now);
      });
      this.scheduleFlush();
      return Promise.resolve(states);
    }
    return this.hitStore(buckets, now);
  }

  peek(key: string, limit: number): RateLimitState {
    const now = Date.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) return this.local.peek(key, limit, now);
    return windowState(total(w), limit, w.start, now);
  }

  /** Sends what was counted here (waiting at most `CLOSE_FLUSH_MS` for the database), then closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_FLUSH_MS)));
    await Promise.race([(this.flushing ?? Promise.resolve()).then(() => this.flush()), deadline]);
    clearTimeout(timer);
    await this.store.close?.();
  }

  /** The window `b` may be counted in locally, if it is open and far from its limit. */
  private countable(b: Bucket, now: number): SharedWindow | undefined {
    const w = this.windows.get(b.key);
    if (!w || now - w.start >= WINDOW_MS) return undefined;
    return total(w) + 1 <= b.limit - exactStretch(b.limit) ? w : undefined;
  }

  /** Counts the request in the database, as `rate_limits.hit` does, adding what this instance has not sent yet. */
  private async hitStore(buckets: readonly Bucket[], now: number): Promise<RateLimitState[]> {
    let counted: StoredCount[];
    try {
      counted = await this.store.hit(
        buckets.map((b) => b.key),
        buckets.map((b) => b.limit),
      );
    } catch (e) {
      this.warnOnce(
        'hit',
        `PostgreSQL counters unavailable (${(e as Error).message}); counting in memory`,
        now,
      );
      return this.local.hitAllSync(buckets, now);
    }
    return buckets.map((b, i) => {
      const c = counted[i];
      if (!c) return this.peek(b.key, b.limit);
      const w = this.observe(b.key, c, i);
      return windowState(total(w), b.limit, w.start, now);
    });
  }

  /** Takes a count the store answered into the key's window (a newer window replaces the old one). */
  private observe(key: string, c: StoredCount, rank: number): SharedWindow {
    let w = this.windows.get(key);
    if (!w || c.windowStart > w.start) {
      // Counts not yet sent belong to the window that ended: they are dropped with it.
      w = { start: c.windowStart, known: c.count, pending: 0, sending: 0, rank };
      this.windows.set(key, w);
    } else if (c.windowStart === w.start) {
      w.known = Math.max(w.known, c.count);
    }
    return w;
  }

  private scheduleFlush(): void {
    if (this.closed) return;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      if (this.flushing) return this.scheduleFlush(); // one batch at a time
      this.flushing = this.flush().finally(() => (this.flushing = undefined));
    }, FLUSH_MS).unref();
  }

  /**
   * Sends the counts made here, ordered as `rate_limits.hit` locks its rows (a person's bucket before the company's,
   * then by key), so a batch and a request's count never wait on each other in a cycle.
   */
  private async flush(): Promise<void> {
    const batch = [...this.windows].filter(([, w]) => w.pending > 0);
    if (batch.length === 0) return;
    batch.sort(([ka, a], [kb, b]) => a.rank - b.rank || (ka < kb ? -1 : ka > kb ? 1 : 0));
    const counts = batch.map(([, w]) => {
      const n = w.pending;
      w.sending += n;
      w.pending = 0;
      return n;
    });
    try {
      const answered = await this.store.add(
        batch.map(([key]) => key),
        counts,
        batch.map(([, w]) => w.start),
      );
      batch.forEach(([key, w], i) => {
        w.sending -= counts[i];
        const c = answered[i];
        if (c && this.windows.get(key) === w) this.observe(key, c, w.rank);
      });
    } catch (e) {
      batch.forEach(([, w], i) => {
        w.sending -= counts[i];
        w.pending += counts[i]; // sent again with the next batch
      });
      this.warnOnce(
        'add',
        `sending counts to PostgreSQL failed (${(e as Error).message}); retrying`,
        Date.now(),
      );
      this.scheduleFlush();
    }
  }

  private sweep(now: number): void {
    this.nextSweep = now + WINDOW_MS;
    for (const [key, w] of this.windows) {
      if (now - w.start >= WINDOW_MS && w.sending === 0) this.windows.delete(key);
    }
    this.store
      .sweep(now - 2 * WINDOW_MS)
      .catch((e: Error) => this.warnOnce('sweep', `sweep failed (${e.message})`, now));
  }

  private warnOnce(kind: 'hit' | 'add' | 'sweep', message: string, now: number): void {
    if (now < (this.nextWarning.get(kind) ?? 0)) return;
    this.nextWarning.set(kind, now + WINDOW_MS);
    this.warn(`rate limiter: ${message}`);
  }
}

/** A window's count as this instance sees it: the store's, plus what was counted here and not yet answered back. */
function total(w: SharedWindow): number {
  return w.known + w.pending + w.sending;
}
