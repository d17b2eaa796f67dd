import type { Redis } from 'ioredis';

/** The state of one bucket after a request was counted. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  limited: boolean;
}

/** Counts requests per key in one-minute windows. */
export interface RateLimiter {
  hit(key: string, limit: number): Promise<RateLimitState>;
  /** The current state without counting (for headers on responses that were not counted). */
  peek(key: string, limit: number): RateLimitState;
  close?(): Promise<void>;
}

const WINDOW_MS = 60_000;

function state(count: number, limit: number, windowStart: number, now: number): RateLimitState {
  return {
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)),
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
    const now = Date.now();
    const start = now - (now % WINDOW_MS);
    const redisKey = `tenantry:rl:${key}:${start}`;
    try {
      const results = await this.redis.multi().incr(redisKey).pexpire(redisKey, WINDOW_MS, 'NX').exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      this.local.observe(key, count, start);
      return state(count, limit, start, now);
    } catch (e) {
      this.warn(`rate limiter: Redis unavailable (${(e as Error).message}); counting in memory`);
      return this.local.hitSync(key, limit, now);
    }
  }

  peek(key: string, limit: number): RateLimitState {
    return this.local.peek(key, limit);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/** The window every policy counts in, in seconds (the `w` of `RateLimit-Policy`). */
export const RATE_LIMIT_WINDOW_SECONDS = WINDOW_MS / 1000;

/** One counted policy of a request: its name (`"company"`, later `"user"`) and its bucket's state. */
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
