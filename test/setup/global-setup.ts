import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded.js';
import { runMigrations } from '../../src/database/migrate.js';
import { appRoleFor, deriveAppUrl, withDatabase } from '../../src/database/urls.js';
import { TEST_ENV } from './test-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Owner URL of the run's own database (migrations, fixtures, "as the database owner" checks). */
    ownerUrl: string;
    /** The application's URL (`tenantry_app_<database>`, a member of `tenantry_app`) on the same database. */
    appUrl: string;
  }
}

/**
 * One fresh database per test run, on the server of DATABASE_URL (CI: the machine's PostgreSQL) or, with none
 * given, on the embedded PostgreSQL. The real migrations build it; it is dropped afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < 24)
    throw new Error(`Tests need Node 24 (run them with npm test); this is ${process.versions.node}`);

  let embedded: EmbeddedDatabase | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embedded = await startEmbeddedDatabase('.data/test', 54330, (m) => process.stderr.write(`${m}\n`));
    serverUrl = embedded.url;
  }
  const database = `tenantry_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();

  const ownerUrl = withDatabase(serverUrl, database);
  const password = TEST_ENV.DATABASE_APP_PASSWORD;
  await runMigrations(ownerUrl, password, () => undefined);
  project.provide('ownerUrl', ownerUrl);
  project.provide('appUrl', deriveAppUrl(ownerUrl, undefined, password));

  return async () => {
    if (!process.env.KEEP_TEST_DB) {
      const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await client.connect();
      await client.query(`drop database if exists ${database} with (force)`);
      // The run's own login role (tenantry_app_<database>) has nothing left once its database is gone.
      await client.query(`drop role if exists ${pg.escapeIdentifier(appRoleFor(ownerUrl))}`);
      await client.end();
    }
    await embedded?.stop();
  };
}
