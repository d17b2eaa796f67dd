import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  MemoryRateLimiter,
  PostgresRateLimiter,
  rateLimitHeaders,
  RedisRateLimiter,
} from './rate-limiter.js';

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
      { hit: async () => [{ count: 3, windowStart: start }], sweep: async () => undefined },
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
        sweep: () => Promise.reject(new Error('down')),
      },
      (m) => warnings.push(m),
    );
    expect((await failing.hit('k', 1)).remaining).toBe(0);
    expect(warnings.some((w) => w.includes('counting in memory'))).toBe(true);
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
