import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limiter.js';

/** Redis-backed counters when REDIS_URL is set (shared by every instance), else per-process memory. */
export function createRateLimiter(config: AppConfig, logger: Logger): RateLimiter {
  if (!config.redisUrl) return new MemoryRateLimiter();
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  redis.on('error', (e: Error) => logger.warn({ err: e.message }, 'redis error'));
  return new RedisRateLimiter(redis, (message) => logger.warn(message));
}
