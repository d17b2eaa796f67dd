import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runMigrations } from '../src/database/migrate.js';
import { appRoleFor, deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { registerCompany } from './harness/session.js';

const { escapeIdentifier } = pg;

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Creates and migrates another database on `serverUrl`; returns its owner URL and a cleanup. */
async function secondDatabase(serverUrl: string, appPassword: string) {
  const name = `tenantry_test_second_${randomBytes(4).toString('hex')}`;
  await query(withDatabase(serverUrl, 'postgres'), `create database ${name}`);
  const ownerUrl = withDatabase(serverUrl, name);
  await runMigrations(ownerUrl, appPassword, () => undefined);
  return {
    ownerUrl,
    drop: async () => {
      const admin = withDatabase(serverUrl, 'postgres');
      await query(admin, `drop database if exists ${name} with (force)`);
      await query(admin, `drop role if exists ${escapeIdentifier(appRoleFor(ownerUrl))}`);
    },
  };
}

describe('two databases on one PostgreSQL server', () => {
  const ownerUrl = inject('ownerUrl');

  it('each database has its own application role, and migrating one leaves the other role untouched', async () => {
    const firstRole = appRoleFor(ownerUrl);
    const before = await query<{ rolpassword: string | null }>(
      ownerUrl,
      'select rolpassword from pg_authid where rolname = $1',
      [firstRole],
    );
    expect(before).toHaveLength(1);

    const second = await secondDatabase(ownerUrl, 'another-checkout-password');
    try {
      const secondRole = appRoleFor(second.ownerUrl);
      expect(secondRole).not.toBe(firstRole);
      const after = await query<{ rolpassword: string | null }>(
        ownerUrl,
        'select rolpassword from pg_authid where rolname = $1',
        [firstRole],
      );
      // The first instance's credential did not change under it.
      expect(after[0]?.rolpassword).toBe(before[0]?.rolpassword);

      // Both roles are bound by row-level security the same way: members of tenantry_app, nothing more.
      const roles = await query<{
        rolname: string;
        rolsuper: boolean;
        rolbypassrls: boolean;
        member: boolean;
      }>(
        ownerUrl,
        `select r.rolname, r.rolsuper, r.rolbypassrls, pg_has_role(r.rolname, 'tenantry_app', 'usage') as member
           from pg_roles r where r.rolname = any($1) order by r.rolname`,
        [[firstRole, secondRole]],
      );
      expect(roles).toHaveLength(2);
      for (const r of roles) expect(r).toMatchObject({ rolsuper: false, rolbypassrls: false, member: true });

      // The first database still answers its own role after the second one's migration.
      const me = await query<{ user: string }>(inject('appUrl'), 'select current_user as user');
      expect(me[0]?.user).toBe(firstRole);
    } finally {
      await second.drop();
    }
  });

  // Needs a PostgreSQL server with password authentication (CI's trusts local connections, which would hide a
  // changed password): TEST_SCRAM_DATABASE_URL=postgres://postgres:<password>@127.0.0.1:<port>/postgres.
  const scramUrl = process.env.TEST_SCRAM_DATABASE_URL;
  it.skipIf(!scramUrl)(
    'on a password-authenticated server, the first instance still connects after a second one migrates',
    async () => {
      const server = scramUrl as string;
      const first = await secondDatabase(server, 'first-instance-password-0123');
      const firstApp = deriveAppUrl(first.ownerUrl, undefined, 'first-instance-password-0123');
      try {
        expect((await query<{ ok: number }>(firstApp, 'select 1 as ok'))[0]?.ok).toBe(1);
        const second = await secondDatabase(server, 'second-instance-password-456');
        try {
          const secondApp = deriveAppUrl(second.ownerUrl, undefined, 'second-instance-password-456');
          expect((await query<{ ok: number }>(secondApp, 'select 1 as ok'))[0]?.ok).toBe(1);
          expect((await query<{ ok: number }>(firstApp, 'select 1 as ok'))[0]?.ok).toBe(1);
        } finally {
          await second.drop();
        }
      } finally {
        await first.drop();
      }
    },
  );
});

describe('a database that cannot be reached', () => {
  let t: TestApp;
  let database: Awaited<ReturnType<typeof secondDatabase>>;
  let role: string;

  beforeAll(async () => {
    // A database (and application role) of its own: turning the role's login off must not cut the connections
    // of the suites running beside this one, which share the run's database and role.
    const password = 'unreachable-database-password';
    database = await secondDatabase(inject('ownerUrl'), password);
    role = appRoleFor(database.ownerUrl);
    t = await startTestApp({}, undefined, {
      ownerUrl: database.ownerUrl,
      appUrl: deriveAppUrl(database.ownerUrl, undefined, password),
    });
  });
  afterAll(async () => {
    await t.owner.query(`alter role ${escapeIdentifier(role)} login`);
    // Known and open: in about one full run in three, closing an application whose connections were cut under it
    // waits on a pool connection that never comes back (not seen when this file runs alone). The teardown is
    // bounded so that the run ends; dropping the database (with force) ends whatever connection is left.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([t.close(), new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
    await database.drop();
  });

  it('answers 503 with Retry-After, never 500, and recovers when the database is back', async () => {
    const company = await registerCompany(t);
    const read = () =>
      t
        .http()
        .get(`/v1/companies/${company.companyId}/members`)
        .set('Authorization', `Bearer ${company.owner.accessToken}`);
    expect((await read()).status).toBe(200);

    // What a password changed under a running instance does: its new connections are refused at login.
    await t.owner.query(`alter role ${escapeIdentifier(role)} nologin`);
    // The ORM pool's connections end (the job queue's, `tenantry-runs`, are left alone: the app closes them).
    await t.owner.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and application_name <> 'tenantry-runs'`,
      [role],
    );

    const down = await read();
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toMatch(/^\d+$/);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.body).toMatchObject({ status: 503, code: 'INTERNAL' });
    expect(JSON.stringify(down.body)).not.toContain(role);

    await t.owner.query(`alter role ${escapeIdentifier(role)} login`);
    expect((await read()).status).toBe(200);
  });
});
