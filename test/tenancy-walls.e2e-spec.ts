import { DriverException, MikroORM } from '@mikro-orm/postgresql';
import { companyStatement, scoped as scopedSql } from '../src/tenancy/scoped-sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Membership } from '../src/members/membership.entity.js';
import { newId } from '../src/common/ids.js';
import { TENANT_FILTER } from '../src/tenancy/tenant.entity.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { Unscoped } from '../src/tenancy/unscoped.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/** Both walls, proven independently: the ORM filter, and row-level security under the app's own connection. */
describe('tenancy walls', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let orm: MikroORM;
  let tenancy: TenancyService;

  const ctxOf = (s: CompanySession) => ({
    companyId: s.companyId,
    principalId: s.owner.userId,
    principalType: 'user' as const,
    role: 'owner' as const,
    userId: s.owner.userId,
    actingUserId: s.owner.userId,
    operatorId: undefined,
  });

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Wall A');
    b = await createCompanySession(t, 'Wall B');
    orm = t.app.get(MikroORM);
    tenancy = t.app.get(TenancyService);
  });
  afterAll(async () => {
    await t.close();
  });

  it('wall one: a tenant query outside a tenant context throws instead of reading every company', async () => {
    await expect(tenancy.unscoped(Unscoped.Directory, (em) => em.find(Membership, {}))).rejects.toThrow(
      /tenant/i,
    );
  });

  it('wall one: inside a context, the filter returns only that company', async () => {
    const rows = await tenancy.run(ctxOf(a), (em) => em.find(Membership, {}));
    expect(rows.length).toBe(4);
    expect(new Set(rows.map((m) => m.companyId))).toEqual(new Set([a.companyId]));
  });

  it("wall two: raw SQL through the app's own connection, with the ORM filter off, sees zero rows of another company", async () => {
    const leaked = await tenancy.run(ctxOf(a), async (em) =>
      em.transactional(async (tx) => {
        const raw = (companyId: string) =>
          tx
            .getConnection()
            .execute<{ company_id: string }[]>(
              'select company_id from memberships where company_id = ?',
              [companyId],
              'all',
              tx.getTransactionContext(),
            );
        const unfiltered = await tx.find(Membership, {}, { filters: { [TENANT_FILTER]: false } });
        return {
          own: (await raw(a.companyId)).length,
          foreign: (await raw(b.companyId)).length,
          unfiltered: unfiltered.map((m) => m.companyId),
        };
      }),
    );
    // The same statement sees the own company's rows, so zero foreign rows is the policy at work, not an empty read.
    expect(leaked.own).toBe(4);
    expect(leaked.foreign).toBe(0);
    expect(new Set(leaked.unfiltered)).toEqual(new Set([a.companyId]));
  });

  it('wall two: with no company setting at all, the app role sees nothing', async () => {
    const client = await t.appRole.connect();
    try {
      for (const table of ['memberships', 'refresh_tokens', 'audit_events', 'audit_chain_heads']) {
        const { rows } = await client.query(`select count(*)::int as n from ${table}`);
        expect(rows[0].n, table).toBe(0);
      }
    } finally {
      client.release();
    }
  });

  it("wall two: an insert or an upsert carrying another company's id is refused on the app's own connection", async () => {
    // Raw SQL through the application's ORM connection, in a transaction scoped to company A exactly as a
    // request's is (the ORM filter does not apply to raw SQL: only row-level security stands in the way).
    const asA = (sql: string, params: unknown[]) =>
      tenancy.run(ctxOf(a), (em) =>
        em.transactional((tx) => tx.getConnection().execute(sql, params, 'run', tx.getTransactionContext())),
      );
    // The same statement with A's own id succeeds, so the refusals below are the policy at work.
    const own = newId();
    await asA('insert into memberships (id, company_id, user_id, role) values (?, ?, ?, ?)', [
      own,
      a.companyId,
      b.member.userId,
      'member',
    ]);
    await t.owner.query('delete from memberships where id = $1', [own]);

    await expect(
      asA('insert into memberships (id, company_id, user_id, role) values (?, ?, ?, ?)', [
        newId(),
        b.companyId,
        a.member.userId,
        'owner',
      ]),
    ).rejects.toThrow(/row-level security/);
    await expect(
      asA(
        `insert into memberships (id, company_id, user_id, role) values (?, ?, ?, 'owner')
         on conflict (company_id, user_id) do update set role = excluded.role`,
        [newId(), b.companyId, b.member.userId],
      ),
    ).rejects.toThrow(/row-level security/);
    // An update cannot move a row into another company either.
    await expect(
      asA('update memberships set company_id = ? where company_id = ?', [b.companyId, a.companyId]),
    ).rejects.toThrow(/row-level security/);

    const roles = await t.owner.query('select role from memberships where company_id = $1 and user_id = $2', [
      b.companyId,
      b.member.userId,
    ]);
    expect(roles.rows).toEqual([{ role: 'member' }]);
    const counts = await t.owner.query<{ a: number; b: number }>(
      `select count(*) filter (where company_id = $1)::int as a, count(*) filter (where company_id = $2)::int as b
         from memberships`,
      [a.companyId, b.companyId],
    );
    expect(counts.rows[0]).toEqual({ a: 4, b: 4 });
  });

  it("the setting never outlives a request's transaction on the app's pooled connection", async () => {
    // An app with a pool of one connection: the connection the test reads through is the one the request used.
    const one = await startTestApp({ DATABASE_POOL_MAX: '1' });
    try {
      const connection = one.app.get(MikroORM).em.getConnection();
      const probe = async () =>
        (
          await connection.execute<{ pid: number; company: string | null }[]>(
            "select pg_backend_pid() as pid, current_setting('app.company_id', true) as company",
          )
        )[0];
      const before = await probe();
      const res = await one
        .http()
        .get(`/v1/companies/${a.companyId}/members`)
        .auth(a.owner.accessToken, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(4);
      const after = await probe();
      // The same physical connection served the request in between…
      expect(after.pid).toBe(before.pid);
      // …and the company it set with `set_config(…, true)` inside its transactions ended with them.
      expect(after.company ?? '').toBe('');
    } finally {
      await one.close();
    }
  });

  it('hand-written statements go out as named prepared statements, planned once per connection', async () => {
    // One pooled connection: the statements of the writes below and the probe share it.
    const one = await startTestApp({ DATABASE_POOL_MAX: '1' });
    try {
      const s = await createCompanySession(one, 'Prepared');
      const board = await one
        .http()
        .post('/v1/boards')
        .auth(s.manager.accessToken, { type: 'bearer' })
        .send({ name: 'Prepared' });
      expect(board.status).toBe(201);
      const [todo, doing] = board.body.columns as { id: string }[];
      const card = await one
        .http()
        .post(`/v1/boards/${board.body.id}/cards`)
        .auth(s.member.accessToken, { type: 'bearer' })
        .send({ columnId: todo.id, title: 'Moved' });
      expect(card.status).toBe(201);
      for (const [version, columnId] of [
        [1, doing.id],
        [2, todo.id],
      ] as const) {
        const moved = await one
          .http()
          .post(`/v1/cards/${card.body.id}/move`)
          .auth(s.member.accessToken, { type: 'bearer' })
          .set('If-Match', `"${version}"`)
          .send({ columnId });
        expect(moved.status, moved.text).toBe(200);
      }
      const prepared = await one.app
        .get(MikroORM)
        .em.getConnection()
        .execute<{ name: string }[]>('select name from pg_prepared_statements order by name');
      expect(prepared.map((p) => p.name)).toEqual(
        expect.arrayContaining(['audit.append', 'cards.move_read', 'cards.move_write']),
      );
    } finally {
      await one.close();
    }
  });

  it("a scoped statement's database error is converted like the ORM's own (so the filter maps it)", async () => {
    const statement = companyStatement('spec.bad_uuid', 'select ?::uuid as company, ?::uuid as id');
    const failed = await tenancy
      .run(ctxOf(a), (em) => em.transactional((tx) => scopedSql(tx, statement, ['not-a-uuid'])))
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DriverException);
    expect((failed as DriverException & { code?: string }).code).toBe('22P02');
  });

  it('the app connects as a role that owns nothing and cannot bypass row-level security', async () => {
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }[]>(
        `select rolsuper, rolbypassrls, exists (select 1 from pg_tables where schemaname = 'public' and tableowner = current_user) as owns
           from pg_roles where rolname = current_user`,
      );
    expect(row).toEqual({ rolsuper: false, rolbypassrls: false, owns: false });
  });

  it('every table with a company_id forces row-level security and leads its indexes with company_id', async () => {
    const { rows: tables } = await t.owner.query<{
      table_name: string;
      rls: boolean;
      force: boolean;
      policies: number;
    }>(
      `select c.table_name, k.relrowsecurity as rls, k.relforcerowsecurity as force,
              (select count(*)::int from pg_policies p where p.tablename = c.table_name) as policies
         from information_schema.columns c join pg_class k on k.relname = c.table_name
        where c.table_schema = 'public' and c.column_name = 'company_id'`,
    );
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      expect(table, table.table_name).toMatchObject({ rls: true, force: true });
      expect(table.policies, table.table_name).toBeGreaterThan(0);
    }
    const { rows: indexes } = await t.owner.query<{ tablename: string; indexname: string; indexdef: string }>(
      `select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = any($1) and indexname not like '%_pkey'`,
      [tables.map((x) => x.table_name)],
    );
    // Identity lookups (a user's own memberships, a credential by its hash) are the documented exceptions.
    const exceptions = /_user_idx$|_hash_unique$|_by_hash/;
    for (const index of indexes.filter((i) => !exceptions.test(i.indexname))) {
      expect(index.indexdef, index.indexname).toMatch(/\(company_id[,)]/);
    }
  });
});
