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

/** A migrated database: its owner's URL and its application role's. */
export interface TestDatabase {
  ownerUrl: string;
  appUrl: string;
}

/**
 * Boots the real application module over HTTP against the run's migrated database (or `database`, for a test
 * that must change its role without touching the other suites' connections); `logger` replaces the default one
 * (at the configured level), e.g. to capture what the application logs.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  logger?: Logger,
  database: TestDatabase = { ownerUrl: inject('ownerUrl'), appUrl: inject('appUrl') },
): Promise<TestApp> {
  const config = loadConfig({ ...process.env, ...env }, () => undefined);
  logger ??= pino({ level: config.logLevel });
  const app = await createApp({ config, databaseUrl: database.appUrl, logger });
  await app.getHttpAdapter().getInstance().ready();
  const owner = new pg.Pool({ connectionString: database.ownerUrl, max: 3 });
  const appRole = new pg.Pool({ connectionString: database.appUrl, max: 3 });
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
