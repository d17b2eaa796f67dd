import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter, rateLimitHeaders, RedisRateLimiter } from './rate-limiter.js';

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
