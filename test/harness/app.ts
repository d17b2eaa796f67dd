import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import request from 'supertest';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** supertest bound to the app's HTTP server. */
  http: () => ReturnType<typeof request>;
  /** A pool connected as the database owner (superuser in CI): fixtures and "as the owner" checks only. */
  owner: pg.Pool;
  /** A pool connected as `tenantry_app`, outside the application (raw SQL through the app's own role). */
  appRole: pg.Pool;
  /** Listens on a free loopback port (for clients that need a real URL: fetch, the MCP SDK); returns its origin. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots the real application module over HTTP against the run's migrated database; `logger` replaces the default
 * one (at the configured level), e.g. to capture what the application logs.
 */
export async function startTestApp(env: Record<string, string> = {}, logger?: Logger): Promise<TestApp> {
  const config = loadConfig({ ...process.env, ...env }, () => undefined);
  logger ??= pino({ level: config.logLevel });
  const app = await createApp({ config, databaseUrl: inject('appUrl'), logger });
  await app.getHttpAdapter().getInstance().ready();
  const owner = new pg.Pool({ connectionString: inject('ownerUrl'), max: 3 });
  const appRole = new pg.Pool({ connectionString: inject('appUrl'), max: 3 });
  return {
    app,
    config,
    http: () => request(app.getHttpServer()),
    owner,
    appRole,
    listen: async () => {
      await app.listen(0, '127.0.0.1');
      const address = app.getHttpServer().address();
      if (!address || typeof address === 'string') throw new Error('no TCP address');
      return `http://127.0.0.1:${address.port}`;
    },
    close: async () => {
      await app.close();
      await owner.end();
      await appRole.end();
    },
  };
}
