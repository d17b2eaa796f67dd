import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { postgresCounterStore } from '../database/statements/rate-limit.js';
import { PostgresRateLimiter } from './postgres-rate-limiter.js';
import { RedisRateLimiter, type RateLimiter } from './rate-limiter.js';

/**
 * Counters shared by every instance: in Redis when REDIS_URL is set, else in PostgreSQL (`rate_limits`), so a
 * second instance on the same database counts in the same windows.
 */
export function createRateLimiter(config: AppConfig, logger: Logger, databaseUrl: string): RateLimiter {
  if (!config.redisUrl) {
    const warn = (message: string) => logger.warn(message);
    return new PostgresRateLimiter(postgresCounterStore(databaseUrl, warn), warn);
  }
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  redis.on('error', (e: Error) => logger.warn({ err: e.message }, 'redis error'));
  return new RedisRateLimiter(redis, (message) => logger.warn(message));
}
