import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PostgresRateLimiter, type CounterStore, type StoredCount } from './postgres-rate-limiter.js';
import { MemoryRateLimiter, rateLimitHeaders, RedisRateLimiter } from './rate-limiter.js';

/** `rate_limits.hit` and `rate_limits.add` as the migrations define them, in memory, on the (fake) clock. */
class FakeCounterStore implements CounterStore {
  readonly calls: string[] = [];
  failing = false;
  private readonly rows = new Map<string, StoredCount>();

  hit(keys: readonly string[], limits: readonly number[]): Promise<StoredCount[]> {
    this.calls.push('hit');
    const now = Date.now();
    const out: StoredCount[] = [];
    for (const [i, key] of keys.entries()) {
      const row = this.rows.get(key);
      const next =
        !row || row.windowStart <= now - 60_000
          ? { count: 1, windowStart: now }
          : { count: row.count + 1, windowStart: row.windowStart };
      this.rows.set(key, next);
      out.push({ ...next });
      if (next.count > limits[i]) break;
    }
    return Promise.resolve(out);
  }

  add(keys: readonly string[], counts: readonly number[], starts: readonly number[]): Promise<StoredCount[]> {
    this.calls.push('add');
    if (this.failing) return Promise.reject(new Error('down'));
    return Promise.resolve(
      keys.map((key, i) => {
        const row = this.rows.get(key);
        if (row && row.windowStart === starts[i]) row.count += counts[i];
        return row ? { ...row } : { count: 0, windowStart: 0 };
      }),
    );
  }

  sweep(): Promise<void> {
    return Promise.resolve();
  }

  count(key: string): number {
    return this.rows.get(key)?.count ?? 0;
  }

  set(key: string, count: number): void {
    const row = this.rows.get(key);
    if (row) row.count = count;
  }

  /** Opens a new window for `key`, as the next request after the minute would. */
  open(key: string): void {
    this.rows.set(key, { count: 0, windowStart: Date.now() });
  }
}

describe('rate limiters', () => {
  it('memory: counts per key and limits beyond the limit', async () => {
    const limiter = new MemoryRateLimiter();
    const states = [];
    for (let i = 0; i < 4; i++) states.push(await limiter.hit('k', 3));
    expect(states.map((s) => s.remaining)).toEqual([2, 1, 0, 0]);
    expect(states.map((s) => s.limited)).toEqual([false, false, false, true]);
    expect((await limiter.hit('other', 3)).remaining).toBe(2);
    expect(limiter.peek('k', 3).remaining).toBe(0);
  });

  it('memory: hitAll counts in order and stops at the first bucket over its limit', async () => {
    const limiter = new MemoryRateLimiter();
    const buckets = [
      { key: 'user:c:u', limit: 1 },
      { key: 'company:c', limit: 5 },
    ];
    expect((await limiter.hitAll(buckets)).map((s) => [s.remaining, s.limited])).toEqual([
      [0, false],
      [4, false],
    ]);
    // The person's bucket refuses: the company's is not counted.
    expect((await limiter.hitAll(buckets)).map((s) => [s.remaining, s.limited])).toEqual([
      [0, true],
      [4, false],
    ]);
  });

  it('postgres: maps the store’s counts, peeks the uncounted, falls back to memory when the store fails', async () => {
    const start = Date.now() - 10_000;
    const limiter = new PostgresRateLimiter(
      {
        hit: async () => [{ count: 3, windowStart: start }],
        add: async () => [],
        sweep: async () => undefined,
      },
      () => undefined,
    );
    const [user, company] = await limiter.hitAll([
      { key: 'u', limit: 2 },
      { key: 'c', limit: 10 },
    ]);
    expect(user).toMatchObject({ remaining: 0, limited: true });
    expect(user.resetSeconds).toBeGreaterThanOrEqual(49);
    expect(user.resetSeconds).toBeLessThanOrEqual(50);
    expect(company).toMatchObject({ remaining: 10, limited: false });
    expect(limiter.peek('u', 2).limited).toBe(true);

    const warnings: string[] = [];
    const failing = new PostgresRateLimiter(
      {
        hit: () => Promise.reject(new Error('down')),
        add: () => Promise.reject(new Error('down')),
        sweep: () => Promise.reject(new Error('down')),
      },
      (m) => warnings.push(m),
    );
    expect((await failing.hit('k', 1)).remaining).toBe(0);
    expect(warnings.some((w) => w.includes('counting in memory'))).toBe(true);
  });

  describe('postgres batches', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 1_800_000_000_000 });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('counts far from the limit in memory and sends the counts in one batch; the last tenth is exact', async () => {
      const store = new FakeCounterStore();
      const limiter = new PostgresRateLimiter(store, () => undefined);
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) remaining.push((await limiter.hit('k', 1000)).remaining);
      expect(remaining).toEqual([999, 998, 997, 996, 995]);
      expect(store.calls).toEqual(['hit']); // the window's first request only
      await vi.advanceTimersByTimeAsync(100);
      expect(store.calls).toEqual(['hit', 'add']);
      expect(store.count('k')).toBe(5);

      // Near the limit (the last 100 of 1000), every request is counted in the store.
      store.set('k', 899);
      await limiter.hit('k', 1000); // still counted here: the store's 899 is not known yet
      await vi.advanceTimersByTimeAsync(100); // the batch answers 900
      store.calls.length = 0;
      expect((await limiter.hit('k', 1000)).remaining).toBe(99);
      expect((await limiter.hit('k', 1000)).remaining).toBe(98);
      expect(store.calls).toEqual(['hit', 'hit']);
      await limiter.close();
    });

    it('keeps two instances within a batch of the limit, and small limits exact', async () => {
      const store = new FakeCounterStore();
      const a = new PostgresRateLimiter(store, () => undefined);
      const b = new PostgresRateLimiter(store, () => undefined);
      let admitted = 0;
      for (let i = 0; i < 400; i++) {
        if (!(await (i % 2 ? a : b).hit('k', 200)).limited) admitted++;
        if (i % 10 === 9) await vi.advanceTimersByTimeAsync(100);
      }
      // Each instance counts at most 5 requests between batches that the other does not know of.
      expect(admitted).toBeGreaterThanOrEqual(200);
      expect(admitted).toBeLessThanOrEqual(205);

      let small = 0;
      for (let i = 0; i < 30; i++) if (!(await (i % 2 ? a : b).hit('s', 15)).limited) small++;
      expect(small).toBe(15);
      await Promise.all([a.close(), b.close()]);
    });

    it('drops counts of a window that ended, and sends a failed batch again', async () => {
      const store = new FakeCounterStore();
      const warnings: string[] = [];
      const limiter = new PostgresRateLimiter(store, (m) => warnings.push(m));
      await limiter.hit('k', 1000);
      store.failing = true;
      await limiter.hit('k', 1000);
      await vi.advanceTimersByTimeAsync(100);
      expect(warnings.some((w) => w.includes('retrying'))).toBe(true);
      store.failing = false;
      await vi.advanceTimersByTimeAsync(100);
      expect(store.count('k')).toBe(2);

      await limiter.hit('k', 1000);
      vi.setSystemTime(Date.now() + 60_000); // the window ends before its batch is sent
      store.open('k');
      await vi.advanceTimersByTimeAsync(100);
      expect(store.count('k')).toBe(0);
      expect((await limiter.hit('k', 1000)).remaining).toBe(999); // the new window, from the store
      await limiter.close();
    });
  });

  it('redis: two instances share one window', async () => {
    const key = `spec-${Date.now()}-${Math.random()}`;
    const a = new RedisRateLimiter(
      new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 }),
      () => undefined,
    );
    const b = new RedisRateLimiter(
      new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 }),
      () => undefined,
    );
    try {
      await a.hit(key, 2);
      await b.hit(key, 2);
      // hitAll stops at the refusing bucket: the second key is not counted.
      const [refused, untouched] = await b.hitAll([
        { key, limit: 2 },
        { key: `${key}-wide`, limit: 5 },
      ]);
      expect(refused.limited).toBe(true);
      expect(untouched.remaining).toBe(5);
      expect((await a.hit(`${key}-wide`, 5)).remaining).toBe(4);
      const third = await a.hit(key, 2);
      expect(third.limited).toBe(true);
      expect(third.resetSeconds).toBeGreaterThan(0);
      expect(third.resetSeconds).toBeLessThanOrEqual(60);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('redis: falls back to memory when Redis is unreachable', async () => {
    const warnings: string[] = [];
    const limiter = new RedisRateLimiter(
      new Redis('redis://127.0.0.1:1', {
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      }),
      (m) => warnings.push(m),
    );
    const s = await limiter.hit('k', 1);
    expect(s.remaining).toBe(0);
    expect(warnings.length).toBeGreaterThan(0);
    await limiter.close();
  });
});

describe('rateLimitHeaders', () => {
  const state = (limit: number, remaining: number, resetSeconds: number) => ({
    limit,
    remaining,
    resetSeconds,
    limited: false,
  });

  it('writes the IETF draft fields and the older trio for one policy', () => {
    expect(rateLimitHeaders([{ policy: 'company', state: state(600, 599, 42) }])).toEqual({
      'RateLimit-Policy': '"company";q=600;w=60',
      RateLimit: '"company";r=599;t=42',
      'RateLimit-Limit': '600',
      'RateLimit-Remaining': '599',
      'RateLimit-Reset': '42',
    });
  });

  it('lists every policy and names the one nearest its limit', () => {
    const headers = rateLimitHeaders([
      { policy: 'company', state: state(600, 500, 30) },
      { policy: 'user', state: state(60, 3, 12) },
    ]);
    expect(headers['RateLimit-Policy']).toBe('"company";q=600;w=60, "user";q=60;w=60');
    expect(headers.RateLimit).toBe('"user";r=3;t=12');
    expect(headers['RateLimit-Limit']).toBe('60');
  });

  it('writes nothing without a policy', () => {
    expect(rateLimitHeaders([])).toEqual({});
  });
});
