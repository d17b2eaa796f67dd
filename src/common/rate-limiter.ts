import type { Redis } from 'ioredis';

/** The state of one bucket after a request was counted. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  limited: boolean;
}

/** One bucket a request is counted in: its key (`company:<id>`) and the limit of its window. */
export interface Bucket {
  key: string;
  limit: number;
}

/** Counts requests per key in one-minute windows. */
export interface RateLimiter {
  hit(key: string, limit: number): Promise<RateLimitState>;
  /**
   * Counts one request in several buckets, in order, in one round trip to the shared store; counting stops at the
   * first bucket over its limit (the buckets after it are returned as they stand, uncounted), so a request refused
   * by a narrow bucket (a person's) does not use up a wider one (the company's).
   */
  hitAll(buckets: readonly Bucket[]): Promise<RateLimitState[]>;
  /** The current state without counting (for headers on responses that were not counted). */
  peek(key: string, limit: number): RateLimitState;
  close?(): Promise<void>;
}

const WINDOW_MS = 60_000;

function state(count: number, limit: number, windowStart: number, now: number): RateLimitState {
  return {
    limit,
    remaining: Math.max(0, limit - count),
    // Within the window's length even when the window's start came from another clock (the database's).
    resetSeconds: Math.min(WINDOW_MS / 1000, Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000))),
    limited: count > limit,
  };
}

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed one-minute windows in process memory. Counters are per instance: behind a load balancer the effective
 * limit is the configured one times the number of instances, unless REDIS_URL shares them (RedisRateLimiter).
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = Date.now();

  hitSync(key: string, limit: number, now = Date.now()): RateLimitState {
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return state(w.count, limit, w.start, now);
  }

  hit(key: string, limit: number): Promise<RateLimitState> {
    return Promise.resolve(this.hitSync(key, limit));
  }

  hitAllSync(buckets: readonly Bucket[], now = Date.now()): RateLimitState[] {
    const states: RateLimitState[] = [];
    let refused = false;
    for (const b of buckets) {
      const s: RateLimitState = refused ? this.peek(b.key, b.limit, now) : this.hitSync(b.key, b.limit, now);
      refused ||= s.limited;
      states.push(s);
    }
    return states;
  }

  hitAll(buckets: readonly Bucket[]): Promise<RateLimitState[]> {
    return Promise.resolve(this.hitAllSync(buckets));
  }

  /** Records a count observed elsewhere (the shared store), so `peek` stays meaningful. */
  observe(key: string, count: number, start: number): void {
    this.windows.set(key, { start, count });
  }

  peek(key: string, limit: number, now = Date.now()): RateLimitState {
    const w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) return state(0, limit, now, now);
    return state(w.count, limit, w.start, now);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < WINDOW_MS) return;
    this.lastSweep = now;
    for (const [key, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(key);
  }
}

/** `INCR` + `PEXPIRE NX` per key, in order, stopping after the first count over its limit (ARGV[1 + i]). */
const REDIS_HIT_ALL = `
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  redis.call('PEXPIRE', key, ARGV[1], 'NX')
  counts[i] = n
  if n > tonumber(ARGV[i + 1]) then break end
end
return counts`;

/**
 * The states of `buckets` from the counts a shared store returned (one per counted bucket, in order; the buckets
 * after a refusal were not counted and are peeked), mirrored into `local` so `peek` stays meaningful.
 */
function observeCounts(
  local: MemoryRateLimiter,
  buckets: readonly Bucket[],
  counts: readonly number[],
  start: number,
  now: number,
): RateLimitState[] {
  return buckets.map((b, i) => {
    if (i >= counts.length) return local.peek(b.key, b.limit, now);
    const count = Number(counts[i]);
    local.observe(b.key, count, start);
    return state(count, b.limit, start, now);
  });
}

/**
 * Windows shared by every instance through Redis (aligned to the minute: `INCR` + `PEXPIRE NX` in one round
 * trip). If Redis is unreachable the instance falls back to its own memory counters rather than failing
 * requests, and says so in the log.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly local = new MemoryRateLimiter();

  constructor(
    private readonly redis: Redis,
    private readonly warn: (message: string) => void,
  ) {}

  async hit(key: string, limit: number): Promise<RateLimitState> {
    return (await this.hitAll([{ key, limit }]))[0];
  }

  async hitAll(buckets: readonly Bucket[]): Promise<RateLimitState[]> {
    const now = Date.now();
    const start = now - (now % WINDOW_MS);
    try {
      const counts = (await this.redis.eval(
        REDIS_HIT_ALL,
        buckets.length,
        ...buckets.map((b) => `tenantry:rl:${b.key}:${start}`),
        WINDOW_MS,
        ...buckets.map((b) => b.limit),
      )) as number[];
      return observeCounts(this.local, buckets, counts, start, now);
    } catch (e) {
      this.warn(`rate limiter: Redis unavailable (${(e as Error).message}); counting in memory`);
      return this.local.hitAllSync(buckets, now);
    }
  }

  peek(key: string, limit: number): RateLimitState {
    return this.local.peek(key, limit);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

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
        return state(total(w), b.limit, w.start, now);
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
    return state(total(w), limit, w.start, now);
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
      return state(total(w), b.limit, w.start, now);
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

/** The window every policy counts in, in seconds (the `w` of `RateLimit-Policy`). */
export const RATE_LIMIT_WINDOW_SECONDS = WINDOW_MS / 1000;

/** The policies a request is counted by: its company and the person acting (`RateLimit-Policy` names). */
export type RateLimitPolicy = 'company' | 'user';

/** One counted policy of a request: its name (`"company"`, `"user"`, `"ip"` …) and its bucket's state. */
export interface NamedRateLimit {
  policy: string;
  state: RateLimitState;
}

/** A Structured Fields string (RFC 9651 §3.3.3): quoted, with `"` and `\\` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The rate-limit fields of a response, per draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` lists every
 * policy that applies (`"company";q=600;w=60`), `RateLimit` names the one nearest its limit
 * (`"company";r=599;t=42`: fewest requests left, then the longest wait). The older
 * `RateLimit-Limit/-Remaining/-Reset` trio stays beside them, for that same policy.
 */
export function rateLimitHeaders(limits: readonly NamedRateLimit[]): Record<string, string> {
  if (limits.length === 0) return {};
  const nearest = limits.reduce((a, b) =>
    b.state.remaining < a.state.remaining ||
    (b.state.remaining === a.state.remaining && b.state.resetSeconds > a.state.resetSeconds)
      ? b
      : a,
  );
  const { state } = nearest;
  return {
    'RateLimit-Policy': limits
      .map((l) => `${sfString(l.policy)};q=${l.state.limit};w=${RATE_LIMIT_WINDOW_SECONDS}`)
      .join(', '),
    RateLimit: `${sfString(nearest.policy)};r=${state.remaining};t=${state.resetSeconds}`,
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(state.remaining),
    'RateLimit-Reset': String(state.resetSeconds),
  };
}
