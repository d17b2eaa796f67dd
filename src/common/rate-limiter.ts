/** The state of one bucket after a request was counted. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  limited: boolean;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed one-minute windows per key, in process memory. Counters are per instance: behind a load balancer
 * the effective limit is the configured one times the number of instances (README, "Scaling").
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = Date.now();

  constructor(private readonly windowMs = 60_000) {}

  hit(key: string, limit: number, now = Date.now()): RateLimitState {
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return this.state(w, limit, now);
  }

  peek(key: string, limit: number, now = Date.now()): RateLimitState {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      return { limit, remaining: limit, resetSeconds: Math.ceil(this.windowMs / 1000), limited: false };
    }
    return this.state(w, limit, now);
  }

  private state(w: Window, limit: number, now: number): RateLimitState {
    return {
      limit,
      remaining: Math.max(0, limit - w.count),
      resetSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)),
      limited: w.count > limit,
    };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}

export function rateLimitHeaders(s: RateLimitState): Record<string, string> {
  return {
    'RateLimit-Limit': String(s.limit),
    'RateLimit-Remaining': String(s.remaining),
    'RateLimit-Reset': String(s.resetSeconds),
  };
}
