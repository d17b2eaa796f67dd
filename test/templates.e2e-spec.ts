import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/authz/roles.js';
import { loadCatalog } from '../src/templates/catalog.js';
import { CATEGORIES, compileInputSchema, validateDefinition } from '../src/templates/definition.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import { createCompanySession, type Actor, type CompanySession } from './harness/session.js';

const MISSING = '01900000-0000-7000-8000-000000000000';
const ROLES: Role[] = ['member', 'manager', 'admin', 'owner'];

// Response bodies and request fixtures are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function client(t: TestApp, actor: Actor) {
  const auth = <R extends { auth: (token: string, o: { type: 'bearer' }) => R }>(r: R) =>
    r.auth(actor.accessToken, { type: 'bearer' });
  return {
    get: (url: string) => auth(t.http().get(url)),
    post: (url: string, body: unknown = {}) => auth(t.http().post(url)).send(body as object),
    patch: (url: string, body: unknown) => auth(t.http().patch(url)).send(body as object),
    put: (url: string, body: unknown) => auth(t.http().put(url)).send(body as object),
    delete: (url: string) => auth(t.http().delete(url)),
  };
}

/** Follows `nextCursor` to the end. */
async function listAll(t: TestApp, actor: Actor, path: string, limit: number): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res: Response = await client(t, actor).get(
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...(res.body.data as Json[]));
    cursor = res.body.nextCursor as string | null;
    if (!cursor) return items;
  }
  throw new Error('pagination does not end');
}

function definitionOf(body: Json): Json {
  const { key, version, name, description, category, inputSchema, steps } = body;
  return { key, version, name, description, category, inputSchema, steps };
}

const catalogFiles = loadCatalog();

describe('governed template catalog over HTTP', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Catalog A'), createCompanySession(t, 'Catalog B')]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists exactly 45 templates, ordered by key, across pages, with stable ids from the repository', async () => {
    const all = await listAll(t, a.member, '/v1/templates', 20);
    expect(all).toHaveLength(45);
    const keys = all.map((x) => x.key as string);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(all.map((x) => x.id)).size).toBe(45);
    expect(all.map((x) => [x.id, x.key])).toEqual(catalogFiles.map((e) => [e.id, e.definition.key]));
    for (const item of all) {
      expect(Object.keys(item).sort()).toEqual(
        ['category', 'description', 'id', 'key', 'name', 'stepCount', 'version'].sort(),
      );
    }
    const one = await client(t, a.member).get('/v1/templates?limit=100');
    expect(one.body.data).toHaveLength(45);
    expect(one.body.nextCursor).toBeNull();
  });

  it('serves every listed template with a valid definition whose input schema compiles', async () => {
    const list = await client(t, a.member).get('/v1/templates?limit=100');
    for (const item of list.body.data as Json[]) {
      const res = await client(t, a.member).get(`/v1/templates/${item.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject(item);
      const result = validateDefinition(definitionOf(res.body));
      expect(result.ok ? [] : result.errors, item.key).toEqual([]);
      expect(res.body.stepCount).toBe(res.body.steps.length);
      expect(typeof compileInputSchema(res.body.inputSchema)).toBe('function');
      // What the repository ships, unchanged (object key order included).
      const file = catalogFiles.find((e) => e.id === item.id)!;
      expect(JSON.stringify(definitionOf(res.body))).toBe(JSON.stringify(file.definition));
    }
  });

  it('filters by category and searches by name, case-insensitively', async () => {
    let total = 0;
    for (const category of CATEGORIES) {
      const items = await listAll(t, a.member, `/v1/templates?category=${category}`, 2);
      expect(items.length, category).toBe(
        catalogFiles.filter((e) => e.definition.category === category).length,
      );
      expect(items.every((x) => x.category === category)).toBe(true);
      total += items.length;
    }
    expect(total).toBe(45);

    const search = await client(t, a.member).get('/v1/templates?q=APPROVAL&limit=100');
    const expected = catalogFiles.filter((e) => e.definition.name.toLowerCase().includes('approval'));
    expect(expected.length).toBeGreaterThan(0);
    expect((search.body.data as Json[]).map((x) => x.id)).toEqual(expected.map((e) => e.id));

    const both = await client(t, a.member).get('/v1/templates?category=finance&q=invoice');
    expect((both.body.data as Json[]).map((x) => x.key)).toEqual(['finance.invoice-approval']);

    const none = await client(t, a.member).get('/v1/templates?q=zzz-no-such-template');
    expect(none.body).toEqual({ data: [], nextCursor: null });

    expectProblem(
      await client(t, a.member).get('/v1/templates?category=marketing'),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await client(t, a.member).get('/v1/templates?limit=101'), 400, 'VALIDATION_FAILED');
    expectProblem(
      await client(t, a.member).get(`/v1/templates?cursor=${'x'.repeat(10)}`),
      400,
      'VALIDATION_FAILED',
    );
    const foreignCursor = Buffer.from(MISSING).toString('base64url');
    expectProblem(
      await client(t, a.member).get(`/v1/templates?cursor=${foreignCursor}`),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await client(t, a.member).get(`/v1/templates/${MISSING}`);
    expectProblem(missing, 404, 'NOT_FOUND');
    expect(missing.body.detail).toBe('Template not found');
    expectProblem(await client(t, a.member).get('/v1/templates/not-a-uuid'), 400, 'VALIDATION_FAILED');
  });

  it('has no write routes: no company can change or delete a catalog entry', async () => {
    const id = catalogFiles[0].id;
    const c = client(t, a.owner);
    expectProblem(await c.put(`/v1/templates/${id}`, { name: 'Mine now' }), 404, 'NOT_FOUND');
    expectProblem(await c.patch(`/v1/templates/${id}`, { name: 'Mine now' }), 404, 'NOT_FOUND');
    expectProblem(await c.delete(`/v1/templates/${id}`), 404, 'NOT_FOUND');
    expectProblem(await c.post('/v1/templates', definitionOf({})), 404, 'NOT_FOUND');
    const after = await c.get(`/v1/templates/${id}`);
    expect(after.body.name).toBe(catalogFiles[0].definition.name);
  });

  it('is readable by every role and the same for every company; unauthenticated callers get 401', async () => {
    const reference = await client(t, a.member).get('/v1/templates?limit=100');
    for (const role of ROLES) {
      for (const s of [a, b]) {
        const res = await client(t, s.as(role)).get('/v1/templates?limit=100');
        expect(res.status).toBe(200);
        expect(res.body).toEqual(reference.body);
      }
    }
    const id = catalogFiles[3].id;
    const fromA = await client(t, a.member).get(`/v1/templates/${id}`);
    const fromB = await client(t, b.owner).get(`/v1/templates/${id}`);
    expect(fromB.body).toEqual(fromA.body);
    expectProblem(await t.http().get('/v1/templates'), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().get(`/v1/templates/${id}`), 401, 'UNAUTHENTICATED');
  });

  it("never serves a company's draft or draft version as a template (no shadowing, no leak)", async () => {
    const created = await client(t, a.member).post('/v1/drafts', {
      name: 'Shadow attempt',
      description: 'A draft of company A',
      category: 'finance',
      inputSchema: { type: 'object', properties: {} },
      steps: [{ id: 'only', kind: 'tool', name: 'Only', toolId: 'mail.send' }],
    });
    expect(created.status).toBe(201);
    const published = await client(t, a.manager).post(`/v1/drafts/${created.body.id}/publish`);
    expect(published.status).toBe(200);
    const missing = await client(t, b.member).get(`/v1/templates/${MISSING}`);
    for (const id of [created.body.id, published.body.publishedVersionId]) {
      for (const s of [a, b]) {
        const res = await client(t, s.member).get(`/v1/templates/${id}`);
        expectProblem(res, 404, 'NOT_FOUND');
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
      }
    }
    const list = await client(t, a.member).get('/v1/templates?limit=100&q=shadow');
    expect(list.body.data).toEqual([]);
  });
});

describe('marketplace', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  const invoice = catalogFiles.find((e) => e.definition.key === 'finance.invoice-approval')!;
  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Market A'), createCompanySession(t, 'Market B')]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the catalog as installable listings (listingId = template id), with the same filters', async () => {
    // Community listings of other suites may follow the catalog in the same database: the catalog part only.
    const all = await listAll(t, a.member, '/v1/marketplace?source=catalog', 17);
    expect(all).toHaveLength(45);
    expect(all.map((x) => x.listingId)).toEqual(catalogFiles.map((e) => e.id));
    const hr = await client(t, b.member).get('/v1/marketplace?category=hr&q=OFFER');
    expect((hr.body.data as Json[]).map((x) => x.key)).toEqual(['hr.job-offer']);
    const one = await client(t, a.member).get(`/v1/marketplace/${invoice.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ listingId: invoice.id, key: invoice.definition.key });
    expect(one.body.steps).toEqual(invoice.definition.steps);
    expectProblem(await client(t, a.member).get(`/v1/marketplace/${MISSING}`), 404, 'NOT_FOUND');
    expectProblem(await t.http().get('/v1/marketplace'), 401, 'UNAUTHENTICATED');
  });

  it('installs a copy into the caller’s drafts, with a key that cannot shadow the catalog', async () => {
    const res = await client(t, a.member).post(`/v1/marketplace/${invoice.id}/install`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      key: 'finance.invoice-approval-copy',
      name: invoice.definition.name,
      description: invoice.definition.description,
      category: 'finance',
      status: 'draft',
      version: 1,
      publishedVersionId: null,
      createdBy: a.member.userId,
    });
    expect(res.body.steps).toEqual(invoice.definition.steps);
    expect(res.body.inputSchema).toEqual(invoice.definition.inputSchema);
    // No link back: nothing in the draft names the listing.
    expect(JSON.stringify(res.body)).not.toContain(invoice.id);
    const again = await client(t, a.admin).post(`/v1/marketplace/${invoice.id}/install`, {});
    expect(again.body.key).toBe('finance.invoice-approval-copy-2');
    const named = await client(t, a.manager).post(`/v1/marketplace/${invoice.id}/install`, {
      key: 'finance.our-invoices',
      name: 'Our invoices',
    });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ key: 'finance.our-invoices', name: 'Our invoices' });

    const event = await t.owner.query(
      "select actor_id, target_id, metadata from audit_events where company_id = $1 and action = 'marketplace.installed' and target_id = $2",
      [a.companyId, res.body.id],
    );
    expect(event.rows).toEqual([
      {
        actor_id: a.member.userId,
        target_id: res.body.id,
        metadata: expect.objectContaining({
          listingKey: 'finance.invoice-approval',
          listingVersion: 1,
          draftId: res.body.id,
        }),
      },
    ]);
  });

  it('refuses a catalog key, a taken key, a bad key and unknown fields, storing nothing', async () => {
    const count = async () =>
      (await t.owner.query('select count(*)::int as n from drafts where company_id = $1', [b.companyId]))
        .rows[0].n as number;
    const before = await count();
    const c = client(t, b.member);
    const shadow = await c.post(`/v1/marketplace/${invoice.id}/install`, { key: 'finance.invoice-approval' });
    expectProblem(shadow, 409, 'CONFLICT');
    expect(shadow.body.errors).toEqual([{ field: 'key', message: expect.stringContaining('catalog') }]);
    const bad = await c.post(`/v1/marketplace/${invoice.id}/install`, { key: 'Not A Key' });
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.errors.map((e: Json) => e.field)).toEqual(['key']);
    expectProblem(
      await c.post(`/v1/marketplace/${invoice.id}/install`, { companyId: a.companyId }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await c.post(`/v1/marketplace/${invoice.id}/install`, { steps: [] }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await c.post(`/v1/marketplace/${MISSING}/install`), 404, 'NOT_FOUND');
    expectProblem(await c.post('/v1/marketplace/not-a-uuid/install'), 400, 'VALIDATION_FAILED');
    expect(await count()).toBe(before);
    const first = await c.post(`/v1/marketplace/${invoice.id}/install`, { key: 'finance.taken' });
    expect(first.status).toBe(201);
    expectProblem(
      await c.post(`/v1/marketplace/${invoice.id}/install`, { key: 'finance.taken' }),
      409,
      'CONFLICT',
    );
    expect(await count()).toBe(before + 1);
  });

  it('makes an independent copy: editing or publishing it leaves the catalog as it was', async () => {
    const installed = await client(t, a.member).post(`/v1/marketplace/${invoice.id}/install`);
    const steps = [...installed.body.steps];
    steps[0] = { ...steps[0], name: 'Look the vendor up, our way' };
    const edited = await client(t, a.member).patch(`/v1/drafts/${installed.body.id}`, {
      name: 'Invoice approval (ours)',
      steps,
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect((await client(t, a.manager).post(`/v1/drafts/${installed.body.id}/publish`)).status).toBe(200);
    for (const path of [`/v1/templates/${invoice.id}`, `/v1/marketplace/${invoice.id}`]) {
      const res = await client(t, a.member).get(path);
      expect(res.body.name).toBe('Invoice approval');
      expect(res.body.steps).toEqual(invoice.definition.steps);
    }
    expect(catalogFiles.find((e) => e.id === invoice.id)!.definition.steps[0].name).toBe(
      'Look up the vendor',
    );
  });

  it('installs into the caller’s company only: B never sees A’s copies', async () => {
    const fromA = await client(t, a.member).post(`/v1/marketplace/${invoice.id}/install`, {
      key: 'finance.a-only',
    });
    const fromB = await client(t, b.member).post(`/v1/marketplace/${invoice.id}/install`, {
      key: 'finance.a-only',
    });
    expect(fromA.status).toBe(201);
    // Keys are per company: B may use the same key.
    expect(fromB.status).toBe(201);
    const rows = await t.owner.query('select company_id from drafts where id = any($1)', [
      [fromA.body.id, fromB.body.id],
    ]);
    expect(rows.rows.map((r) => r.company_id).sort()).toEqual([a.companyId, b.companyId].sort());
    const listB = await listAll(t, b.owner, '/v1/drafts', 100);
    expect(listB.map((d) => d.id)).not.toContain(fromA.body.id);
    const missing = await client(t, b.owner).get(`/v1/drafts/${MISSING}`);
    const foreign = await client(t, b.owner).get(`/v1/drafts/${fromA.body.id}`);
    expectProblem(foreign, 404, 'NOT_FOUND');
    expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(missing.body));
    // A draft id is not a listing.
    expectProblem(
      await client(t, b.member).post(`/v1/marketplace/${fromA.body.id}/install`),
      404,
      'NOT_FOUND',
    );
  });

  it('lets every role install', async () => {
    const first = catalogFiles[10];
    for (const role of ROLES) {
      const res = await client(t, b.as(role)).post(`/v1/marketplace/${first.id}/install`, {
        key: `${first.definition.category}.installed-by-${role}`,
      });
      expect(res.status, role).toBe(201);
      expect(res.body.createdBy).toBe(b.as(role).userId);
    }
  });
});
