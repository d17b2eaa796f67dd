import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITUS_PLAN } from '../src/database/citus-plan.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client, publishDraft } from './harness/runs.js';
import { createCompanySession, uniqueEmail, type CompanySession } from './harness/session.js';

/** A foreign key as pg_catalog describes it (columns in key order). */
interface ForeignKey {
  name: string;
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

const KEYS_SQL = `
  select c.conname as name, c.contype as type, t.relname as table,
         array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as columns,
         r.relname as "refTable",
         array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) as "refColumns"
    from pg_constraint c
    join pg_class t on t.oid = c.conrelid
    left join pg_class r on r.oid = c.confrelid
   where t.relnamespace = 'public'::regnamespace and c.contype in ('p', 'u', 'f')`;

/**
 * Wall three, and the Citus rules that plain PostgreSQL can check, read from pg_catalog: a new table or key
 * that forgets the company fails here. Then the proof by attack: as the schema owner (row-level security does
 * not bind it), every cross-company reference through every composite foreign key is refused by the database.
 */
describe('schema walls', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  /** Tables with a company_id column: the tenant tables. */
  let tenantTables: string[];
  let keys: (ForeignKey & { type: 'p' | 'u' | 'f' })[];

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Schema A'), createCompanySession(t, 'Schema B')]);
    // Rows for every tenant-to-tenant reference, in both companies, through the API where it writes them…
    for (const s of [a, b]) {
      const version = await publishDraft(t, s.manager, {
        steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
      });
      const run = await client(t, s.member).post('/v1/runs', { draftVersionId: version, input: {} });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
      // …and as the owner where only the worker would (tests run none): the run's step and its verdict.
      await t.owner.query(
        `insert into run_steps (id, company_id, run_id, step_index, step_id, kind, status, attempts)
         values (gen_random_uuid(), $1, $2, 0, 'ok', 'approval', 'waiting', 0)`,
        [s.companyId, run.body.id],
      );
      await t.owner.query(
        `insert into run_verdicts (id, company_id, run_id, step_id, decision, comment, given_by, given_by_user_id)
         values (gen_random_uuid(), $1, $2, 'ok', 'approve', 'fine', $3, $4)`,
        [s.companyId, run.body.id, s.manager.userId, s.manager.userId],
      );
      await t.owner.query(
        `insert into run_events (id, company_id, run_id, type, data) values (gen_random_uuid(), $1, $2, 'queued', '{}')
         on conflict do nothing`,
        [s.companyId, run.body.id],
      );
      // Workspace rows: a board with its columns, a card linked to the run, a wiki page with a child.
      const board = await client(t, s.manager).post('/v1/boards', { name: 'Schema board' });
      expect(board.status, JSON.stringify(board.body)).toBe(201);
      const columns = await client(t, s.member).get(`/v1/boards/${board.body.id as string}`);
      const columnId = (columns.body.columns as { id: string }[])[0].id;
      const card = await client(t, s.member).post(`/v1/boards/${board.body.id as string}/cards`, {
        columnId,
        title: 'Schema card',
        runId: run.body.id as string,
      });
      expect(card.status, JSON.stringify(card.body)).toBe(201);
      const parent = await client(t, s.member).post('/v1/wiki/pages', {
        title: `Schema parent ${s.slug}`,
        body: 'x',
      });
      expect(parent.status, JSON.stringify(parent.body)).toBe(201);
      const child = await client(t, s.member).post('/v1/wiki/pages', {
        title: `Schema child ${s.slug}`,
        body: 'y',
        parentId: parent.body.id as string,
      });
      expect(child.status, JSON.stringify(child.body)).toBe(201);
      // A community listing: its draft_listings row references the draft (composite key).
      const listed = await client(t, s.manager).post('/v1/drafts', {
        name: `Schema listed ${s.slug}`,
        description: 'Listed',
        category: 'finance',
        inputSchema: { type: 'object', properties: {} },
        steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
      });
      expect((await client(t, s.manager).post(`/v1/drafts/${listed.body.id as string}/publish`)).status).toBe(
        200,
      );
      const listing = await client(t, s.manager).post(`/v1/drafts/${listed.body.id as string}/listing`, {
        publisherName: 'Schema guild',
      });
      expect(listing.status, JSON.stringify(listing.body)).toBe(200);
      // An invitation (its mail send references it) and a rotated API key (the new key references the old one,
      // the old one the new), for the keys of issue 14's id columns.
      const invitation = await client(t, s.admin).post(`/v1/companies/${s.companyId}/invitations`, {
        email: uniqueEmail('schema'),
        role: 'member',
      });
      expect(invitation.status, JSON.stringify(invitation.body)).toBe(201);
      const key = await client(t, s.owner).post('/v1/api-keys', { name: 'Schema key', role: 'member' });
      expect(key.status, JSON.stringify(key.body)).toBe(201);
      const rotated = await client(t, s.owner).post(`/v1/api-keys/${key.body.id as string}/rotate`, {
        overlapHours: 1,
      });
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
      // A group with a member (group_members → groups, memberships).
      const group = await client(t, s.owner).post('/v1/groups', {
        key: 'schema-group',
        name: 'Schema group',
        permissions: ['runs:verdict'],
      });
      expect(group.status, JSON.stringify(group.body)).toBe(201);
      const joined = await client(t, s.owner).put(
        `/v1/groups/${group.body.id as string}/members/${s.member.userId}`,
        {},
      );
      expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    }
    tenantTables = (
      await t.owner.query<{ table: string }>(
        `select c.relname as table from pg_class c join pg_attribute a on a.attrelid = c.oid
          where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and a.attname = 'company_id'
            and not a.attisdropped order by 1`,
      )
    ).rows.map((r) => r.table);
    keys = (await t.owner.query<ForeignKey & { type: 'p' | 'u' | 'f' }>(KEYS_SQL)).rows;
  });
  afterAll(async () => {
    await t.close();
  });

  const tenantForeignKeys = (): ForeignKey[] =>
    keys.filter((k) => k.type === 'f' && tenantTables.includes(k.table) && tenantTables.includes(k.refTable));

  it('every tenant table: company_id NOT NULL, forced RLS, UNIQUE (company_id, id), an index leading with company_id', async () => {
    expect(tenantTables.length).toBeGreaterThan(10);
    const { rows } = await t.owner.query<{
      table: string;
      notNull: boolean;
      rls: boolean;
      force: boolean;
      leading: number;
    }>(
      `select c.relname as table, a.attnotnull as "notNull", c.relrowsecurity as rls, c.relforcerowsecurity as force,
              (select count(*)::int from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum) as leading
         from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attname = 'company_id'
        where c.relname = any($1) and c.relnamespace = 'public'::regnamespace`,
      [tenantTables],
    );
    for (const row of rows) {
      expect(row, row.table).toMatchObject({ notNull: true, rls: true, force: true });
      expect(row.leading, `${row.table}: an index leading with company_id`).toBeGreaterThan(0);
      const key = keys.find(
        (k) => k.table === row.table && k.type !== 'f' && [...k.columns].sort().join() === 'company_id,id',
      );
      expect(key, `${row.table}: UNIQUE (company_id, id)`).toBeDefined();
    }
  });

  it("issue 14's id columns are composite keys: run → draft version, draft → its published version, send → invitation, key → key", () => {
    const composite = (table: string, column: string, refTable: string) =>
      tenantForeignKeys().find(
        (k) =>
          k.table === table &&
          k.refTable === refTable &&
          k.columns.join() === `company_id,${column}` &&
          k.refColumns.join() === 'company_id,id',
      );
    for (const [table, column, refTable] of [
      ['runs', 'draft_version_id', 'draft_versions'],
      ['drafts', 'published_version_id', 'draft_versions'],
      ['invitation_sends', 'invitation_id', 'invitations'],
      ['api_keys', 'rotated_from_id', 'api_keys'],
      ['api_keys', 'replaced_by_id', 'api_keys'],
    ]) {
      expect(composite(table, column, refTable), `${table}.${column} → ${refTable}`).toBeDefined();
    }
    // idempotency_records.resource_id is polymorphic (resource_type names the table): no key, by design.
    expect(
      keys.filter((k) => k.table === 'idempotency_records' && k.columns.includes('resource_id')),
    ).toEqual([]);
  });

  it('every foreign key between tenant tables carries company_id onto company_id', () => {
    const fks = tenantForeignKeys();
    expect(fks.length).toBeGreaterThanOrEqual(4);
    for (const fk of fks) {
      const at = fk.columns.indexOf('company_id');
      expect(at, `${fk.name}: ${fk.columns.join()} omits company_id`).toBeGreaterThanOrEqual(0);
      expect(fk.refColumns[at], `${fk.name}: company_id must reference company_id`).toBe('company_id');
    }
  });

  it('Citus: every table is distributed, reference or local, and distributed keys include company_id', async () => {
    const { rows } = await t.owner.query<{ table: string }>(
      `select relname as table from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')`,
    );
    const global = [...CITUS_PLAN.referenceTables, ...CITUS_PLAN.localTables] as string[];
    for (const { table } of rows) {
      expect(
        tenantTables.includes(table) || global.includes(table),
        `${table}: no company_id and not listed as a reference or local table in CITUS_PLAN (docs/scaling.md)`,
      ).toBe(true);
    }
    const distributed = tenantTables.filter((x) => !global.includes(x));
    for (const key of keys.filter((k) => distributed.includes(k.table) && k.type !== 'f')) {
      if (key.columns.includes(CITUS_PLAN.distributionColumn)) continue;
      if (key.type === 'p') {
        // The (id) primary key is dropped at cut-over; UNIQUE (company_id, id), checked above, stays the key.
        expect(key.columns, key.name).toEqual(['id']);
        continue;
      }
      expect(
        key.columns,
        `${key.name}: a unique key of a distributed table must include company_id (or be a documented credential hash)`,
      ).toEqual([CITUS_PLAN.credentialHashes[key.table]]);
    }
    // Unique indexes that are not constraints count as well.
    const { rows: uniques } = await t.owner.query<{ index: string; table: string; def: string }>(
      `select i.indexrelid::regclass::text as index, c.relname as table, pg_get_indexdef(i.indexrelid) as def
         from pg_index i join pg_class c on c.oid = i.indrelid
        where c.relnamespace = 'public'::regnamespace and i.indisunique and c.relname = any($1)
          and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
      [distributed],
    );
    for (const u of uniques) {
      expect(u.def, `${u.index}: a unique index of a distributed table must include company_id`).toMatch(
        /company_id/,
      );
    }
    // Citus refuses a foreign key from a reference table to a distributed table.
    for (const fk of keys.filter((k) => k.type === 'f' && global.includes(k.table))) {
      expect(
        distributed,
        `${fk.name}: a reference table must not reference a distributed table`,
      ).not.toContain(fk.refTable);
    }
  });

  it('docs/scaling.md mirrors the plan: the exact commands for every table and every credential hash', () => {
    const doc = readFileSync(new URL('../docs/scaling.md', import.meta.url), 'utf8');
    for (const table of CITUS_PLAN.referenceTables) {
      expect(doc).toContain(`select create_reference_table('${table}');`);
    }
    const reference = CITUS_PLAN.referenceTables as readonly string[];
    for (const table of tenantTables.filter((x) => !reference.includes(x))) {
      expect(doc, table).toContain(`select create_distributed_table('${table}', 'company_id'`);
    }
    for (const [table, column] of Object.entries(CITUS_PLAN.credentialHashes)) {
      expect(doc).toContain(`${table}.${column}`);
    }
  });

  /**
   * The deliberate exception: `listings` (the community marketplace, issue 18) is read by every company, so it is
   * not a tenant table and has no `company_id`. What keeps it honest instead, checked here: row-level security
   * with exactly its two policies (read for any company's session, write for the publisher's company), its only
   * foreign key going to the `companies` registry (purge), none from it to a tenant table, and no view over it.
   */
  it('listings: the one cross-company table, RLS with a read and a publisher-write policy, no key into tenant data', async () => {
    expect(tenantTables).not.toContain('listings');
    expect(CITUS_PLAN.referenceTables).toContain('listings');
    const { rows: rls } = await t.owner.query<{ rls: boolean }>(
      `select relrowsecurity as rls from pg_class where oid = 'public.listings'::regclass`,
    );
    expect(rls).toEqual([{ rls: true }]);
    const { rows: policies } = await t.owner.query<{
      name: string;
      cmd: string;
      qual: string;
      check: string | null;
    }>(
      `select policyname as name, cmd, qual, with_check as check from pg_policies
        where schemaname = 'public' and tablename = 'listings' order by policyname`,
    );
    expect(policies.map((p) => [p.name, p.cmd])).toEqual([
      ['listings_publisher_write', 'ALL'],
      ['listings_read_any_company', 'SELECT'],
    ]);
    expect(policies[0].qual).toMatch(/publisher_company_id = .*current_setting\('app\.company_id'/);
    expect(policies[0].check).toMatch(/publisher_company_id = .*current_setting\('app\.company_id'/);
    const outgoing = keys.filter((k) => k.type === 'f' && k.table === 'listings');
    expect(outgoing.map((k) => [k.columns, k.refTable])).toEqual([[['publisher_company_id'], 'companies']]);
    // Only the publisher's own side points at a listing, never a listing at a tenant row.
    const incoming = keys.filter((k) => k.type === 'f' && k.refTable === 'listings');
    expect(incoming.map((k) => k.table)).toEqual(['draft_listings']);
    const { rows: views } = await t.owner.query(
      `select distinct v.relname from pg_depend d join pg_rewrite r on r.oid = d.objid
         join pg_class v on v.oid = r.ev_class
        where d.refobjid = 'public.listings'::regclass and v.relkind in ('v', 'm')`,
    );
    expect(views).toEqual([]);
  });

  describe('proof by attack, as the schema owner', () => {
    /** Runs `sql` in a transaction rolled back afterwards, user triggers off (immutability triggers would answer first). */
    async function attempt(table: string, sql: string, params: unknown[]): Promise<pg.DatabaseError | null> {
      const conn = await t.owner.connect();
      try {
        await conn.query('begin');
        await conn.query(`alter table "${table}" disable trigger user`);
        await conn.query(sql, params);
        return null;
      } catch (e) {
        return e as pg.DatabaseError;
      } finally {
        await conn.query('rollback');
        conn.release();
      }
    }
    const rowOf = async (table: string, companyId: string): Promise<Record<string, unknown>> => {
      const { rows } = await t.owner.query(`select * from "${table}" where company_id = $1 limit 1`, [
        companyId,
      ]);
      expect(rows[0], `fixture: no ${table} row for the company; add one in beforeAll`).toBeDefined();
      return rows[0] as Record<string, unknown>;
    };

    it('refuses, for every composite foreign key, an insert or update pointing at the other company', async () => {
      const fks = tenantForeignKeys();
      expect(fks.length).toBeGreaterThanOrEqual(4);
      let refused = 0;
      for (const fk of fks) {
        const refCol = fk.columns.filter((c) => c !== 'company_id');
        expect(refCol, fk.name).toHaveLength(1);
        const column = refCol[0];
        const target = fk.refColumns[fk.columns.indexOf(column)];
        const child = await rowOf(fk.table, a.companyId);
        const foreign = (await rowOf(fk.refTable, b.companyId))[target];
        // Keys that may refuse a move of this row to B: any key of its own, or one pointing at this row.
        const incoming = fks
          .filter((other) => other.refTable === fk.table || other.table === fk.table)
          .map((other) => other.name);
        const expectRefused = (err: pg.DatabaseError | null, what: string, by = [fk.name]) => {
          expect(err?.code, `${fk.name}: ${what} was accepted (${err?.message ?? 'no error'})`).toBe('23503');
          expect(by, `${fk.name}: ${what} refused by ${err?.constraint}`).toContain(err?.constraint);
          refused += 1;
        };

        // A's row re-pointed at B's row.
        expectRefused(
          await attempt(fk.table, `update "${fk.table}" set "${column}" = $1 where id = $2`, [
            foreign,
            child.id,
          ]),
          'update of the reference',
        );
        // A new row of A pointing at B's row (a copy of A's row, new id, reference swapped).
        const { rows: insertable } = await t.owner.query<{ name: string }>(
          `select column_name as name from information_schema.columns
            where table_schema = 'public' and table_name = $1 and is_generated = 'NEVER'`,
          [fk.table],
        );
        const cols = insertable.map((c) => c.name);
        // Text columns of other unique keys (a page's slug) get a fresh value, so only the reference can refuse.
        const { rows: uniqueText } = await t.owner.query<{ name: string }>(
          `select a.attname as name from pg_constraint k
             join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any (k.conkey)
            where k.conrelid = $1::regclass and k.contype = 'u' and a.atttypid in ('text'::regtype, 'varchar'::regtype)`,
          [fk.table],
        );
        const fresh = new Set(uniqueText.map((u) => u.name));
        const select = cols.map((c) =>
          c === 'id'
            ? 'gen_random_uuid()'
            : c === column
              ? '$1::uuid'
              : fresh.has(c)
                ? `s."${c}" || '-' || substr(md5(random()::text), 1, 8)`
                : `s."${c}"`,
        );
        expectRefused(
          await attempt(
            fk.table,
            `insert into "${fk.table}" (${cols.map((c) => `"${c}"`).join(', ')})
             select ${select.join(', ')} from "${fk.table}" s where s.id = $2`,
            [foreign, child.id],
          ),
          'insert',
        );
        // A's row moved to B while still pointing at A's row.
        expectRefused(
          await attempt(fk.table, `update "${fk.table}" set company_id = $1 where id = $2`, [
            b.companyId,
            child.id,
          ]),
          'move to the other company',
          [fk.name, ...incoming],
        );
        // Control: the same statement with A's own row is accepted, so the refusals above are the key at work.
        expect(
          await attempt(fk.table, `update "${fk.table}" set "${column}" = $1 where id = $2`, [
            (await rowOf(fk.refTable, a.companyId))[target],
            child.id,
          ]),
          `${fk.name}: control`,
        ).toBeNull();
      }
      expect(refused).toBe(fks.length * 3);
    });
  });
});
