import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { runMigrations } from '../../src/database/migrate.js';
import { deriveAppUrl, withDatabase } from '../../src/database/urls.js';
import { BENCH_APP_PASSWORD } from './common.js';

/**
 * The environment of a benchmark that runs the API in its own process (WORKER_MODE=off: runs only queue) against a
 * fresh database: test mode, warnings only, rate limits out of the way. A benchmark adds its own settings.
 */
export const IN_PROCESS_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  DATA_DIR: '.data/bench',
  JWT_SECRET: 'bench-only-jwt-secret-0123456789abcdefghijklmnop',
  TENANTRY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
  DATABASE_APP_PASSWORD: BENCH_APP_PASSWORD,
  RATE_LIMIT_PER_MINUTE: '1000000',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
  WORKER_MODE: 'off',
  MIGRATE_ON_START: 'false',
};

/** A database of its own on DATABASE_URL's server (default: the local PostgreSQL as `postgres`), migrated. */
export interface FreshDatabase {
  name: string;
  ownerUrl: string;
  /** The application role's URL on it. */
  appUrl: string;
  drop(): Promise<void>;
}

/** Creates and migrates `<prefix>_<now>`; `drop()` removes it. */
export async function freshDatabase(prefix: string): Promise<FreshDatabase> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${prefix}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const ownerUrl = withDatabase(serverUrl, name);
  const appUrl = deriveAppUrl(ownerUrl, undefined, BENCH_APP_PASSWORD);
  await runMigrations(ownerUrl, BENCH_APP_PASSWORD, () => undefined);
  return {
    name,
    ownerUrl,
    appUrl,
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/**
 * The API in this process on `appUrl` with `env` (over the process's own), listening on a free loopback port;
 * `call` is a {@link jsonApi} client of it.
 */
export async function startInProcessApp(
  env: Record<string, string>,
  appUrl: string,
): Promise<{ app: NestFastifyApplication; url: string; call: JsonApi }> {
  const config = loadConfig({ ...process.env, ...env }, () => undefined);
  const app = await createApp({ config, databaseUrl: appUrl, logger: pino({ level: 'warn' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { app, url, call: jsonApi(url) };
}

/** A tiny JSON client of the API: the parsed answer, or an error naming the call and the status. */
export function jsonApi(base: string) {
  return async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return json;
  };
}
export type JsonApi = ReturnType<typeof jsonApi>;

/** Starts `count` runs, `parallel` requests at a time; returns the elapsed milliseconds. */
export async function startRuns(
  call: JsonApi,
  company: { token: string; version: string },
  count: number,
  parallel = 16,
): Promise<number> {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        await call('POST', '/v1/runs', company.token, { draftVersionId: company.version, input: {} });
      }
    }),
  );
  return Date.now() - started;
}
