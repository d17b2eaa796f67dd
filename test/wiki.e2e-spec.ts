import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompanyPurgeService } from '../src/companies/company-purge.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import {
  addMember,
  createCompanySession,
  login,
  type Actor,
  type CompanySession,
} from './harness/session.js';

const MISSING = '01900000-0000-7000-8000-000000000000';
const hex = () => randomBytes(4).toString('hex');

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function client(t: TestApp, actor: Actor) {
  const auth = <R extends { auth: (token: string, o: { type: 'bearer' }) => R }>(r: R) =>
    r.auth(actor.accessToken, { type: 'bearer' });
  return {
    get: (url: string, query: Record<string, string> = {}) => auth(t.http().get(url)).query(query),
    post: (url: string, body: unknown) => auth(t.http().post(url)).send(body as object),
    patch: (url: string, body: unknown, ifMatch?: string) => {
      const req = auth(t.http().patch(url));
      return (ifMatch === undefined ? req : req.set('If-Match', ifMatch)).send(body as object);
    },
    delete: (url: string) => auth(t.http().delete(url)),
  };
}

function created(res: Response): Json {
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json;
}

async function auditOf(t: TestApp, companyId: string, action: string, targetId: string): Promise<Json[]> {
  const { rows } = await t.owner.query<{ metadata: Json }>(
    'select metadata from audit_events where company_id = $1 and action = $2 and target_id = $3 order by seq',
    [companyId, action, targetId],
  );
  return rows.map((r) => r.metadata);
}

describe('wiki', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let member2: Actor;

  const newPage = async (actor: Actor, fields: Json = {}): Promise<Json> =>
    created(
      await client(t, actor).post('/v1/wiki/pages', {
        title: `Page ${hex()}`,
        body: 'Some text.',
        ...fields,
      }),
    );

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Wiki A'), createCompanySession(t, 'Wiki B')]);
    const { userId, email } = await addMember(t, a.companyId, 'member');
    member2 = { userId, email, role: 'member', ...(await login(t, email, a.slug)) };
  });
  afterAll(async () => {
    await t.close();
  });

  describe('pages', () => {
    it('creates a page with a derived slug, stores Markdown as given, and reads it by id and by slug', async () => {
      const body = '# Hello\n\n<b>raw html</b> and **bold** stay exactly as written.\n';
      const res = await client(t, a.member).post('/v1/wiki/pages', { title: '  Team Handbook!  ', body });
      const page = created(res);
      expect(page).toMatchObject({
        title: 'Team Handbook!',
        slug: 'team-handbook',
        body,
        parentId: null,
        version: 1,
        createdBy: a.member.userId,
        updatedBy: a.member.userId,
      });
      expect(res.headers.etag).toBe('"1"');
      expect(res.headers.location).toBe(`/v1/wiki/pages/${page.id}`);

      const byId = await client(t, a.manager).get(`/v1/wiki/pages/${page.id}`);
      expect(byId.status).toBe(200);
      expect(byId.body).toEqual(page);
      expect(byId.headers.etag).toBe('"1"');
      const bySlug = await client(t, a.manager).get('/v1/wiki/pages/by-slug/team-handbook');
      expect(bySlug.body).toEqual(page);
      expect(await auditOf(t, a.companyId, 'wiki_page.created', page.id)).toEqual([
        { slug: 'team-handbook', parentId: null, version: 1 },
      ]);
    });

    it('resolves slug conflicts with a suffix; an explicit slug that is taken answers 409', async () => {
      const title = `Same Title ${hex()}`;
      const first = await newPage(a.member, { title });
      const second = await newPage(a.member, { title });
      expect(second.slug).toBe(`${first.slug}-2`);
      expect((await newPage(a.member, { title: '日本語' })).slug).toMatch(/^page(-\d+)?$/);
      // Concurrent pages of one title all get a slug of their own (a lost race retries with a random suffix).
      const racing = `Racing ${hex()}`;
      const raced = await Promise.all(
        [a.member, member2, a.manager, a.admin].map((actor) =>
          client(t, actor).post('/v1/wiki/pages', { title: racing, body: '' }),
        ),
      );
      expect(raced.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(raced.map((r) => r.body.slug as string)).size).toBe(4);
      const explicit = await newPage(a.member, { slug: `custom-${hex()}` });
      const taken = await client(t, a.member).post('/v1/wiki/pages', {
        title: 'Other',
        body: '',
        slug: explicit.slug,
      });
      expectProblem(taken, 409, 'CONFLICT');
      expect(taken.body.errors).toEqual([{ field: 'slug', message: expect.any(String) }]);
      // Slugs are per company: B may use A's.
      expect((await newPage(b.member, { slug: explicit.slug })).slug).toBe(explicit.slug);
      for (const slug of ['Upper', 'a--b', '-a', 'a b', 'x'.repeat(101), '']) {
        const bad = await client(t, a.member).post('/v1/wiki/pages', { title: 'T', body: '', slug });
        expectProblem(bad, 400, 'VALIDATION_FAILED');
      }
      expectProblem(await client(t, a.member).get('/v1/wiki/pages/by-slug/NOT_A_SLUG'), 404, 'NOT_FOUND');
    });

    it('enforces the limits: title ≤ 200, body ≤ 1 MiB of UTF-8 (accepted up to exactly 1 MiB)', async () => {
      const post = (fields: Json) =>
        client(t, a.member).post('/v1/wiki/pages', { title: 'T', body: '', ...fields });
      expectProblem(await post({ title: 'x'.repeat(201) }), 400, 'VALIDATION_FAILED');
      expectProblem(await post({ title: '   ' }), 400, 'VALIDATION_FAILED');
      expectProblem(await post({ body: 7 }), 400, 'VALIDATION_FAILED');
      expect((await post({ title: 'x'.repeat(200) })).status).toBe(201);
      // Exactly 1 MiB of distinct words with quotes and newlines (escaped in JSON): stored and indexed.
      let big = '';
      for (let i = 0; big.length < 1024 * 1024 - 40; i++) big += `w${i.toString(36)} "q"\n`;
      big = big.padEnd(1024 * 1024, 'z');
      const ok = await post({ body: big });
      expect(ok.status, ok.text.slice(0, 300)).toBe(201);
      expect((await client(t, a.member).get(`/v1/wiki/pages/${ok.body.id}`)).body.body).toBe(big);
      const over = await post({ body: `${big}z` });
      expectProblem(over, 400, 'VALIDATION_FAILED');
      expect(over.body.errors[0].field).toBe('body');
      // Multi-byte characters count as bytes: 2 bytes each.
      expectProblem(await post({ body: 'é'.repeat(512 * 1024 + 1) }), 400, 'VALIDATION_FAILED');
    });

    it('lists children by title (top level without parentId), paginated', async () => {
      const root = await newPage(a.member, { title: `Root ${hex()}` });
      for (const title of ['Charlie', 'alpha', 'Bravo', 'Delta']) {
        await newPage(a.member, { title, parentId: root.id });
      }
      const first = await client(t, a.member).get('/v1/wiki/pages', { parentId: root.id, limit: '3' });
      expect(first.status).toBe(200);
      const second = await client(t, a.member).get('/v1/wiki/pages', {
        parentId: root.id,
        limit: '3',
        cursor: first.body.nextCursor,
      });
      const titles = [...first.body.data, ...second.body.data].map((p: Json) => p.title);
      expect(titles).toHaveLength(4);
      expect(second.body.nextCursor).toBeNull();
      // In the database's order of titles (its collation decides where `alpha` goes).
      const { rows } = await t.owner.query<{ title: string }>(
        'select title from wiki_pages where parent_id = $1 order by title, id',
        [root.id],
      );
      expect(titles).toEqual(rows.map((r) => r.title));
      expect(first.body.data[0]).not.toHaveProperty('body');
      const top = await client(t, a.member).get('/v1/wiki/pages', { limit: '100' });
      expect(top.body.data.map((p: Json) => p.id)).toContain(root.id);
      expect(top.body.data.every((p: Json) => p.parentId === null)).toBe(true);
      expectProblem(await client(t, a.member).get('/v1/wiki/pages', { parentId: MISSING }), 404, 'NOT_FOUND');
    });
  });

  describe('changes, revisions and concurrency', () => {
    it('requires If-Match (428), refuses a stale one (412 with the current version) and records each change', async () => {
      const page = await newPage(a.member, { title: 'Versioned', body: 'v1' });
      const url = `/v1/wiki/pages/${page.id}`;
      expectProblem(await client(t, a.member).patch(url, { body: 'v2' }), 428, 'PRECONDITION_REQUIRED');
      // `*` says no version either (as for cards): a lost update must not slip through.
      expectProblem(await client(t, a.member).patch(url, { body: 'v2' }, '*'), 428, 'PRECONDITION_REQUIRED');
      // A missing page is a 404 with or without the header.
      expectProblem(
        await client(t, a.member).patch(`/v1/wiki/pages/${MISSING}`, { body: 'v2' }),
        404,
        'NOT_FOUND',
      );

      const ok = await client(t, member2).patch(url, { body: 'v2' }, '"1"');
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.headers.etag).toBe('"2"');
      expect(ok.body).toMatchObject({
        body: 'v2',
        version: 2,
        updatedBy: member2.userId,
        createdBy: a.member.userId,
      });

      const stale = await client(t, a.member).patch(url, { body: 'lost update' }, '"1"');
      expectProblem(stale, 412, 'PRECONDITION_FAILED');
      expect(stale.body.currentVersion).toBe('2');
      expect(stale.headers.etag).toBe('"2"');

      const renamed = await client(t, a.member).patch(url, { title: 'Versioned, renamed' }, '"2"');
      expect(renamed.body).toMatchObject({ version: 3, slug: page.slug, title: 'Versioned, renamed' });
      // Nothing changed: no new version.
      const same = await client(t, a.member).patch(url, { title: 'Versioned, renamed' }, '"3"');
      expect(same.body.version).toBe(3);
      expect((await client(t, a.member).get(url)).body.body).toBe('v2');

      const revisions = await client(t, a.member).get(`${url}/revisions`, { limit: '2' });
      expect(revisions.status).toBe(200);
      expect(revisions.body.data.map((r: Json) => r.version)).toEqual([3, 2]);
      const rest = await client(t, a.member).get(`${url}/revisions`, { cursor: revisions.body.nextCursor });
      expect(rest.body.data.map((r: Json) => [r.version, r.authorId])).toEqual([[1, a.member.userId]]);
      expect(revisions.body.data[1].authorId).toBe(member2.userId);

      // The newest revision is the page as it stands; each revision is the whole page.
      const current = (await client(t, a.member).get(url)).body;
      expect(current.revisionId).toBe(revisions.body.data[0].id);
      const newest = await client(t, a.member).get(`${url}/revisions/${current.revisionId}`);
      expect(newest.body).toMatchObject({
        pageId: page.id,
        version: 3,
        title: current.title,
        body: current.body,
        slug: current.slug,
        parentId: null,
      });
      const firstRev = await client(t, a.member).get(`${url}/revisions/${rest.body.data[0].id}`);
      expect(firstRev.body).toMatchObject({ version: 1, title: 'Versioned', body: 'v1' });
      expectProblem(await client(t, a.member).get(`${url}/revisions/${MISSING}`), 404, 'NOT_FOUND');

      expect(await auditOf(t, a.companyId, 'wiki_page.updated', page.id)).toEqual([
        { fields: ['body'], version: 2 },
        { fields: ['title'], version: 3 },
      ]);
    });

    it('lets exactly one of two concurrent changes based on the same version win', async () => {
      for (let round = 0; round < 3; round++) {
        const page = await newPage(a.member);
        const url = `/v1/wiki/pages/${page.id}`;
        const [x, y] = await Promise.all([
          client(t, a.member).patch(url, { body: `from x ${round}` }, '"1"'),
          client(t, member2).patch(url, { body: `from y ${round}` }, '"1"'),
        ]);
        expect([x.status, y.status].sort()).toEqual([200, 412]);
        const winner = x.status === 200 ? x : y;
        const after = await client(t, a.member).get(url);
        expect(after.body).toMatchObject({ version: 2, body: winner.body.body });
        const revisions = await client(t, a.member).get(`${url}/revisions`);
        expect(revisions.body.data).toHaveLength(2);
      }
    });

    it('moves pages in the tree and refuses a cycle (409), audited as moved', async () => {
      const top = await newPage(a.member, { title: 'Top' });
      const mid = await newPage(a.member, { title: 'Mid', parentId: top.id });
      const leaf = await newPage(a.member, { title: 'Leaf', parentId: mid.id });
      const move = (p: Json, parentId: string | null, version = '"1"') =>
        client(t, a.member).patch(`/v1/wiki/pages/${p.id}`, { parentId }, version);

      expectProblem(await move(top, leaf.id), 409, 'CONFLICT');
      expectProblem(await move(top, top.id), 409, 'CONFLICT');
      expectProblem(await move(mid, leaf.id), 409, 'CONFLICT');
      expectProblem(await move(top, MISSING), 404, 'NOT_FOUND');
      const other = await newPage(b.member);
      const foreign = await move(top, other.id);
      expectProblem(foreign, 404, 'NOT_FOUND');
      expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId((await move(top, MISSING)).body));

      const moved = await move(leaf, top.id);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body).toMatchObject({ parentId: top.id, version: 2 });
      const toRoot = await move(leaf, null, '"2"');
      expect(toRoot.body).toMatchObject({ parentId: null, version: 3 });
      expect(await auditOf(t, a.companyId, 'wiki_page.moved', leaf.id)).toEqual([
        { from: mid.id, to: top.id, version: 2 },
        { from: top.id, to: null, version: 3 },
      ]);
      // The revision records the parent too.
      const revs = await client(t, a.member).get(`/v1/wiki/pages/${leaf.id}/revisions`);
      expect(revs.body.data.map((r: Json) => r.parentId)).toEqual([null, top.id, mid.id]);
    });

    it('never lets two concurrent moves make a cycle', async () => {
      for (let round = 0; round < 3; round++) {
        const x = await newPage(a.member);
        const y = await newPage(a.member);
        const [toY, toX] = await Promise.all([
          client(t, a.member).patch(`/v1/wiki/pages/${x.id}`, { parentId: y.id }, '"1"'),
          client(t, member2).patch(`/v1/wiki/pages/${y.id}`, { parentId: x.id }, '"1"'),
        ]);
        expect([toY.status, toX.status].sort()).toEqual([200, 409]);
      }
    });

    it('refuses a parent of another company on create (404 like a missing one)', async () => {
      const other = await newPage(b.member);
      const foreign = await client(t, a.member).post('/v1/wiki/pages', {
        title: 'T',
        body: '',
        parentId: other.id,
      });
      const missing = await client(t, a.member).post('/v1/wiki/pages', {
        title: 'T',
        body: '',
        parentId: MISSING,
      });
      expectProblem(foreign, 404, 'NOT_FOUND');
      expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(missing.body));
    });

    it('refuses at the database to link a page to another company’s page or revision (composite keys)', async () => {
      const mine = await newPage(a.member);
      const theirs = await newPage(b.member);
      await expect(
        t.owner.query('update wiki_pages set parent_id = $1 where id = $2', [theirs.id, mine.id]),
      ).rejects.toThrow(/foreign key/);
      await expect(
        t.owner.query(
          `insert into wiki_page_revisions (id, company_id, page_id, version, title, slug, body, author_id)
           values (gen_random_uuid(), $1, $2, 9, 't', 's', 'b', 'x')`,
          [a.companyId, theirs.id],
        ),
      ).rejects.toThrow(/foreign key/);
    });
  });

  describe('deletion and roles', () => {
    it('deletes a page with children only with ?cascade=true, with its revisions, each page audited', async () => {
      const root = await newPage(a.member);
      const child = await newPage(a.member, { parentId: root.id });
      const grandchild = await newPage(a.member, { parentId: child.id });
      const url = `/v1/wiki/pages/${root.id}`;
      expectProblem(await client(t, a.member).delete(url), 409, 'CONFLICT');
      expect((await client(t, a.member).delete(`${url}?cascade=true`)).status).toBe(204);
      for (const p of [root, child, grandchild]) {
        expectProblem(await client(t, a.member).get(`/v1/wiki/pages/${p.id}`), 404, 'NOT_FOUND');
        expect(await auditOf(t, a.companyId, 'wiki_page.deleted', p.id as string)).toHaveLength(1);
      }
      const { rows } = await t.owner.query(
        'select count(*)::int as n from wiki_page_revisions where page_id = any($1)',
        [[root.id, child.id, grandchild.id]],
      );
      expect(rows[0].n).toBe(0);
      const leaf = await newPage(a.member);
      expect((await client(t, a.member).delete(`/v1/wiki/pages/${leaf.id}`)).status).toBe(204);
      expectProblem(
        await client(t, a.member).delete(`/v1/wiki/pages/${leaf.id}?cascade=maybe`),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('lets every member read, create and edit; deleting is for the creator or a manager', async () => {
      const page = await newPage(a.member);
      const url = `/v1/wiki/pages/${page.id}`;
      for (const actor of [a.member, member2, a.manager, a.admin, a.owner]) {
        expect((await client(t, actor).get(url)).status).toBe(200);
      }
      expect((await client(t, member2).patch(url, { title: 'Edited by a colleague' }, '"1"')).status).toBe(
        200,
      );

      // Another member: denied as a missing page, and audited.
      const denied = await client(t, member2).delete(url);
      expectProblem(denied, 404, 'NOT_FOUND');
      const { rows } = await t.owner.query(
        "select count(*)::int as n from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2",
        [a.companyId, page.id],
      );
      expect(rows[0].n).toBe(1);
      expect((await client(t, a.member).get(url)).status).toBe(200);
      expect((await client(t, a.manager).delete(url)).status).toBe(204);

      const own = await newPage(member2);
      expect((await client(t, member2).delete(`/v1/wiki/pages/${own.id}`)).status).toBe(204);

      // A member cannot cascade over someone else's pages; a manager can.
      const root = await newPage(member2);
      await newPage(a.member, { parentId: root.id });
      expectProblem(
        await client(t, member2).delete(`/v1/wiki/pages/${root.id}?cascade=true`),
        403,
        'FORBIDDEN',
      );
      expect((await client(t, a.manager).delete(`/v1/wiki/pages/${root.id}?cascade=true`)).status).toBe(204);
    });

    it('needs a credential', async () => {
      expect((await t.http().get('/v1/wiki/pages')).status).toBe(401);
      expect((await t.http().get('/v1/wiki/search?q=x')).status).toBe(401);
    });

    it('purges the pages and revisions with their company', async () => {
      const doomed = await createCompanySession(t, `Wiki Doomed ${hex()}`);
      const root = await newPage(doomed.member);
      const child = await newPage(doomed.member, { parentId: root.id });
      await client(t, doomed.member).patch(`/v1/wiki/pages/${child.id}`, { body: 'edited' }, '"1"');
      const count = async (table: string) =>
        (
          await t.owner.query<{ n: number }>(
            `select count(*)::int as n from ${table} where company_id = $1`,
            [doomed.companyId],
          )
        ).rows[0].n;
      expect(await count('wiki_pages')).toBe(2);
      expect(await count('wiki_page_revisions')).toBe(3);
      expect((await client(t, doomed.owner).delete(`/v1/companies/${doomed.companyId}`)).status).toBe(202);
      await t.owner.query("update companies set purge_after = now() - interval '1 minute' where id = $1", [
        doomed.companyId,
      ]);
      expect(await t.app.get(CompanyPurgeService).purgeDue()).toContain(doomed.companyId);
      expect(await count('wiki_pages')).toBe(0);
      expect(await count('wiki_page_revisions')).toBe(0);
    });
  });

  describe('search', () => {
    let word: string;
    let titleHit: Json;
    let bodyHit: Json;

    beforeAll(async () => {
      word = `zebra${hex().replace(/\d/g, 'q')}`;
      bodyHit = await newPage(a.member, {
        title: 'Unrelated title',
        body: `Intro text. <script>alert(1)</script> Some **bold** words, then the ${word} appears here.\n\nMore text.`,
      });
      titleHit = await newPage(a.member, { title: `All about the ${word}`, body: 'Nothing else.' });
      await newPage(b.member, { title: `B's ${word}`, body: `Company B writes about the ${word} too.` });
    });

    const search = (q: string, actor: Actor = a.member, extra: Record<string, string> = {}) =>
      client(t, actor).get('/v1/wiki/search', { q, ...extra });

    it('ranks title matches over body matches, with plain-text snippets marking the matches in **…**', async () => {
      const res = await search(word);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.map((h: Json) => h.id)).toEqual([titleHit.id, bodyHit.id]);
      expect(res.body.data[0].rank).toBeGreaterThan(res.body.data[1].rank);
      const hit = res.body.data[1] as Json;
      expect(hit).toMatchObject({ title: 'Unrelated title', slug: bodyHit.slug, parentId: null });
      expect(hit.snippet).toContain(`**${word}**`);
      // No markup of the body reaches a snippet, and the only ** are the markers.
      expect(hit.snippet).not.toMatch(/[<>]/);
      expect(hit.snippet.replaceAll(`**${word}**`, '')).not.toContain('*');
      // Stemming: the plural finds the singular.
      expect((await search(`${word}s`)).body.data).toHaveLength(2);
      // Web-search syntax: exclusion and phrases.
      expect((await search(`${word} -nothing`)).body.data.map((h: Json) => h.id)).toEqual([bodyHit.id]);
      expect((await search(`"the ${word} appears"`)).body.data.map((h: Json) => h.id)).toEqual([bodyHit.id]);
    });

    it("never matches another company's pages", async () => {
      const fromB = await search(word, b.member);
      expect(fromB.body.data).toHaveLength(1);
      expect(fromB.body.data[0].title).toBe(`B's ${word}`);
      expect(JSON.stringify(fromB.body)).not.toContain(bodyHit.id);
      const fromA = await search(`"B's ${word}" OR "Company B writes"`);
      expect(fromA.body.data).toEqual([]);
      // The function itself, through the application's role: with A's company set for the statement it sees only
      // A's rows; with no company set, or B's, A's id as the argument reads nothing (the setting decides).
      const { rows } = await t.appRole.query<{ id: string }>(
        "select id from tenant_wiki_search(set_config('app.company_id', $1::text, true)::uuid, $2, 50, 0)",
        [a.companyId, word],
      );
      expect(rows.map((r) => r.id).sort()).toEqual([bodyHit.id, titleHit.id].sort());
      const unset = await t.appRole.query('select id from tenant_wiki_search($1, $2, 50, 0)', [
        a.companyId,
        word,
      ]);
      expect(unset.rows).toEqual([]);
      const conn = await t.appRole.connect();
      try {
        await conn.query('begin');
        await conn.query("select set_config('app.company_id', $1::text, true)", [b.companyId]);
        const steered = await conn.query('select id from tenant_wiki_search($1, $2, 50, 0)', [
          a.companyId,
          word,
        ]);
        expect(steered.rows).toEqual([]);
      } finally {
        await conn.query('rollback');
        conn.release();
      }
    });

    it('pages through hits', async () => {
      const first = await search(word, a.member, { limit: '1' });
      expect(first.body.data.map((h: Json) => h.id)).toEqual([titleHit.id]);
      const second = await search(word, a.member, { limit: '1', cursor: first.body.nextCursor });
      expect(second.body.data.map((h: Json) => h.id)).toEqual([bodyHit.id]);
      expect(second.body.nextCursor).toBeNull();
      expectProblem(await search(word, a.member, { cursor: 'bm9wZQ' }), 400, 'VALIDATION_FAILED');
    });

    it('takes any text as a query: never a 5xx', async () => {
      const hostile = [
        '',
        '   ',
        '"',
        '""',
        "'",
        `"${word}`,
        `${word}:*`,
        `${word}:A`,
        '!',
        '!!!',
        `!${word}`,
        '&',
        '|',
        '<->',
        '<2>',
        '(',
        ')',
        '((a',
        '\\',
        ':*',
        '-',
        '-'.repeat(100),
        '- '.repeat(2000),
        'or',
        'OR OR OR',
        '-"" -""',
        `${word} & | ! <-> :* ( ) " ' \\`,
        '<script>alert(1)</script>',
        '%',
        '💥🔥',
        'a'.repeat(5000),
        '"a '.repeat(1000),
        '"'.repeat(3000),
        '-'.repeat(10_000),
      ];
      const failures: string[] = [];
      for (const q of hostile) {
        const res = await search(q);
        if (res.status !== 200)
          failures.push(`${JSON.stringify(q.slice(0, 40))} (${q.length}): ${res.status}`);
      }
      // 10,000 characters that need no percent-encoding (encoded ones make the URL exceed Node's 16 KiB header
      // limit, which Node answers with 431 before the application sees the request: a 4xx all the same).
      const raw = (qs: string) => client(t, a.member).get(`/v1/wiki/search?q=${qs}`);
      for (const qs of [
        `${'x+'.repeat(4999)}y`,
        '!'.repeat(10_000),
        `${'-x'.repeat(5000)}`,
        'x:*+'.repeat(2500),
      ]) {
        const res = await raw(qs);
        if (res.status !== 200) failures.push(`raw ${qs.slice(0, 40)} (${qs.length}): ${res.status}`);
      }
      expect(failures).toEqual([]);
      const tooLongUrl = await raw('%22'.repeat(10_000));
      expect(tooLongUrl.status).toBeGreaterThanOrEqual(400);
      expect(tooLongUrl.status).toBeLessThan(500);
      expect((await search(`"${word}`)).body.data).toHaveLength(2);
      // Longer than 10,000 characters: a 400, not a 5xx.
      expectProblem(await search('a'.repeat(10_001)), 400, 'VALIDATION_FAILED');
      expectProblem(await client(t, a.member).get('/v1/wiki/search?q=%00'), 400, 'VALIDATION_FAILED');
    });

    it('finds words of a 1 MiB body that fall in its indexed part', async () => {
      const marker = `yak${hex().replace(/\d/g, 'q')}`;
      const big = `${marker} ${'lorem ipsum dolor '.repeat(60_000)}`.slice(0, 1024 * 1024);
      const page = await newPage(a.member, { body: big });
      const res = await search(marker);
      expect(res.status).toBe(200);
      expect(res.body.data.map((h: Json) => h.id)).toEqual([page.id]);
      expect(res.body.data[0].snippet).toContain(`**${marker}**`);
    });
  });
});
