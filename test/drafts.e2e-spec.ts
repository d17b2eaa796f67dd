import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/authz/roles.js';
import { loadCatalog } from '../src/templates/catalog.js';
import { MAX_DEPTH, MAX_STEPS } from '../src/templates/definition.js';
import { TEMPLATE_SOURCE, type TemplateSource } from '../src/templates/template-source.js';
import type { TenantContext } from '../src/tenancy/request-store.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
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
const ROLES: Role[] = ['member', 'manager', 'admin', 'owner'];
const catalog = loadCatalog();

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
    delete: (url: string) => auth(t.http().delete(url)),
  };
}

function validDraft(overrides: Json = {}): Json {
  return {
    name: 'Vendor check',
    description: 'Checks a vendor before anyone pays them.',
    category: 'finance',
    inputSchema: {
      type: 'object',
      required: ['vendorId'],
      // Deliberately not in jsonb's key order: a draft must read back as written.
      properties: {
        vendorId: { type: 'string' },
        amount: { type: 'number', minimum: 0 },
        a: { type: 'string' },
      },
      additionalProperties: false,
    },
    steps: [
      {
        id: 'lookup',
        kind: 'tool',
        name: 'Look the vendor up',
        toolId: 'erp.vendor.lookup',
        input: { vendorId: '{{input.vendorId}}' },
      },
      {
        id: 'approve',
        kind: 'approval',
        name: 'A manager approves',
        minRole: 'manager',
        prompt: 'Pay {{input.amount}} to {{steps.lookup.output.name}}?',
      },
    ],
    ...overrides,
  };
}

function ctxOf(s: CompanySession, role: Role = 'member'): TenantContext {
  const actor = s.as(role);
  return {
    companyId: s.companyId,
    principalId: actor.userId,
    principalType: 'user',
    role,
    userId: actor.userId,
    actingUserId: actor.userId,
    operatorId: undefined,
  };
}

async function draftCount(t: TestApp, companyId: string): Promise<number> {
  const { rows } = await t.owner.query('select count(*)::int as n from drafts where company_id = $1', [
    companyId,
  ]);
  return rows[0].n as number;
}

async function auditCount(t: TestApp, companyId: string, action: string, targetId?: string): Promise<number> {
  const { rows } = await t.owner.query(
    'select count(*)::int as n from audit_events where company_id = $1 and action = $2 and ($3::text is null or target_id = $3)',
    [companyId, action, targetId ?? null],
  );
  return rows[0].n as number;
}

function fieldsOf(res: Response): string[] {
  return (res.body.errors as { field: string }[]).map((e) => e.field);
}

describe('drafts', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let member2: Actor;
  let source: TemplateSource;
  let tenancy: TenancyService;
  const forRun = (s: CompanySession, ref: { templateId?: string; draftVersionId?: string }) =>
    tenancy.run(ctxOf(s), () => source.forRun(ref));

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Drafts A'), createCompanySession(t, 'Drafts B')]);
    const { userId, email } = await addMember(t, a.companyId, 'member');
    member2 = { userId, email, role: 'member', ...(await login(t, email, a.slug)) };
    source = t.app.get<TemplateSource>(TEMPLATE_SOURCE);
    tenancy = t.app.get(TenancyService);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('create and validation', () => {
    it('creates a draft, derives its key, and reads it back exactly as written', async () => {
      const body = validDraft();
      const res = await client(t, a.member).post('/v1/drafts', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        key: 'finance.vendor-check',
        name: body.name,
        category: 'finance',
        status: 'draft',
        version: 1,
        hasUnpublishedChanges: true,
        publishedVersion: null,
        publishedVersionId: null,
        createdBy: a.member.userId,
        updatedBy: a.member.userId,
      });
      const got = await client(t, a.member).get(`/v1/drafts/${res.body.id}`);
      expect(got.body).toEqual(res.body);
      expect(JSON.stringify(got.body.inputSchema)).toBe(JSON.stringify(body.inputSchema));
      expect(JSON.stringify(got.body.steps)).toBe(JSON.stringify(body.steps));
      expect(await auditCount(t, a.companyId, 'draft.created', res.body.id)).toBe(1);

      const second = await client(t, a.member).post('/v1/drafts', body);
      expect(second.body.key).toBe('finance.vendor-check-2');
      // A derived key never equals a catalog key.
      const likeCatalog = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ name: 'Invoice approval' }),
      );
      expect(likeCatalog.body.key).toBe('finance.invoice-approval-2');
      const odd = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ name: '  42 Zoë’s Übersicht!! ' }),
      );
      expect(odd.body.key).toBe('finance.draft-42-zoe-s-ubersicht');
    });

    it('gives concurrent creates of one name distinct derived keys: each retries past a key taken meanwhile', async () => {
      const name = `Concurrent ${Math.random().toString(36).slice(2, 8)}`;
      const results = await Promise.all(
        Array.from({ length: 6 }, () => client(t, a.member).post('/v1/drafts', validDraft({ name }))),
      );
      expect(
        results.map((r) => r.status),
        JSON.stringify(results.map((r) => r.body as unknown)),
      ).toEqual([201, 201, 201, 201, 201, 201]);
      const keys = results.map((r) => r.body.key as string);
      expect(new Set(keys).size).toBe(6);
      const slug = name.toLowerCase().replace(' ', '-');
      expect(keys.sort()).toEqual(
        [`finance.${slug}`, ...[2, 3, 4, 5, 6].map((n) => `finance.${slug}-${n}`)].sort(),
      );
    });

    it('refuses a catalog key or a key the company already uses (409 naming the key), storing nothing', async () => {
      const before = await draftCount(t, a.companyId);
      for (const entry of catalog.slice(0, 3)) {
        const res = await client(t, a.member).post('/v1/drafts', validDraft({ key: entry.definition.key }));
        expectProblem(res, 409, 'CONFLICT');
        expect(res.body.errors).toEqual([{ field: 'key', message: expect.stringContaining('catalog') }]);
      }
      expect(await draftCount(t, a.companyId)).toBe(before);
      const first = await client(t, a.member).post('/v1/drafts', validDraft({ key: 'finance.explicit-key' }));
      expect(first.status).toBe(201);
      const dup = await client(t, a.manager).post('/v1/drafts', validDraft({ key: 'finance.explicit-key' }));
      expectProblem(dup, 409, 'CONFLICT');
      expect(fieldsOf(dup)).toEqual(['key']);
      expect(await draftCount(t, a.companyId)).toBe(before + 1);
    });

    it('reports each invalid definition with the path of the error, and stores nothing', async () => {
      const withStep = (index: number, patch: Json) => {
        const body = validDraft();
        body.steps[index] = { ...body.steps[index], ...patch };
        return body;
      };
      const deep = (() => {
        let nested: unknown = 'leaf';
        for (let i = 0; i < MAX_DEPTH + 5; i++) nested = { n: nested };
        return withStep(0, { input: { vendorId: '{{input.vendorId}}', deep: nested } });
      })();
      const cases: [string, Json, string[], string?][] = [
        ['unknown step kind', withStep(1, { kind: 'script' }), ['steps.1.kind'], 'tool, approval'],
        ['duplicate step ids', withStep(1, { id: 'lookup' }), ['steps.1.id'], 'duplicate'],
        [
          'unknown approval role',
          withStep(1, { minRole: 'superadmin' }),
          ['steps.1.minRole'],
          'owner, admin',
        ],
        [
          'reference to an undeclared input',
          withStep(0, { input: { vendorId: '{{input.vendor}}' } }),
          ['steps.0.input.vendorId'],
          'does not declare',
        ],
        [
          'reference to a later step',
          withStep(0, { input: { x: '{{steps.approve.output}}' } }),
          ['steps.0.input.x'],
        ],
        ['unknown step field', withStep(0, { when: 'always' }), ['steps.0.when'], 'unknown field'],
        ['fields of another kind', withStep(1, { toolId: 'a.b' }), ['steps.1.toolId']],
        ['missing name', { ...validDraft(), name: undefined }, ['name'], 'required'],
        ['unknown category', validDraft({ category: 'marketing' }), ['category']],
        ['no steps', validDraft({ steps: [] }), ['steps']],
        [
          'input schema not an object schema',
          validDraft({ inputSchema: { ...validDraft().inputSchema, type: 'array' } }),
          ['inputSchema.type'],
        ],
        ['bad key', validDraft({ key: 'Has Spaces' }), ['key']],
        [
          `${MAX_STEPS + 1} steps`,
          validDraft({
            steps: Array.from({ length: MAX_STEPS + 1 }, (_, i) => ({
              id: `s${i}`,
              kind: 'tool',
              name: 'S',
              toolId: 'a.b',
            })),
          }),
          ['steps'],
          `at most ${MAX_STEPS} steps (got ${MAX_STEPS + 1})`,
        ],
        [
          '10,000 steps',
          validDraft({
            steps: Array.from({ length: 10_000 }, (_, i) => ({
              id: `s${i}`,
              kind: 'tool',
              name: 'S',
              toolId: 'a.b',
            })),
          }),
          ['steps'],
          `at most ${MAX_STEPS} steps (got 10000)`,
        ],
        ['JSON nested deeper than the definition allows', deep, ['body'], `${MAX_DEPTH} levels`],
      ];
      const before = await draftCount(t, a.companyId);
      for (const [what, body, fields, message] of cases) {
        const res = await client(t, a.member).post('/v1/drafts', body);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res), what).toEqual(fields);
        if (message) expect(res.body.errors[0].message, what).toContain(message);
        expect(res.body.detail, what).toContain(fields[0]);
      }
      // Several errors at once, all reported.
      const many = validDraft({ category: 'nope' });
      many.steps[0].kind = 'script';
      many.steps[1].minRole = 'root';
      const res = await client(t, a.member).post('/v1/drafts', many);
      expect(fieldsOf(res)).toEqual(['category', 'steps.0.kind', 'steps.1.minRole']);
      expect(await draftCount(t, a.companyId)).toBe(before);
    });

    it('refuses fields the format does not have (id, version, companyId, status…) at the body level', async () => {
      const before = await draftCount(t, a.companyId);
      for (const field of [
        'id',
        'version',
        'companyId',
        'company_id',
        'status',
        'createdBy',
        'publishedVersionId',
      ]) {
        const res = await client(t, a.member).post('/v1/drafts', validDraft({ [field]: b.companyId }));
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res), field).toEqual([field]);
      }
      expect(await draftCount(t, a.companyId)).toBe(before);
    });

    it('refuses bodies nested deeper than the parser allows, too large, or not objects', async () => {
      let nested: unknown = 'leaf';
      for (let i = 0; i < 70; i++) nested = [nested];
      const deep = await client(t, a.member).post('/v1/drafts', validDraft({ description: nested }));
      expectProblem(deep, 400, 'VALIDATION_FAILED');
      expect(deep.body.detail).toContain('64');
      const huge = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ description: 'x'.repeat(1_100_000) }),
      );
      expectProblem(huge, 413, 'PAYLOAD_TOO_LARGE');
      const big = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ description: 'x'.repeat(300_000) }),
      );
      expectProblem(big, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(big)).toEqual(['body']);
      expectProblem(
        await t.http().post('/v1/drafts').auth(a.member.accessToken, { type: 'bearer' }).send([validDraft()]),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('refuses an input schema pattern the linear-time engine cannot run, naming where it stands', async () => {
      const before = await draftCount(t, a.companyId);
      const unsupported = validDraft({
        inputSchema: {
          type: 'object',
          properties: {
            vendorId: { type: 'string', pattern: '^(?=V)[A-Z0-9]+$' },
            amount: { type: 'number' },
            tags: { type: 'object', patternProperties: { '^(k)\\1$': { type: 'string' } } },
            code: { type: 'string', pattern: `^${'[a-z]'.repeat(60)}$` },
          },
        },
      });
      const res = await client(t, a.member).post('/v1/drafts', unsupported);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res).sort()).toEqual(
        [
          'inputSchema.properties.code.pattern',
          'inputSchema.properties.tags.patternProperties.^(k)\\1$',
          'inputSchema.properties.vendorId.pattern',
        ].sort(),
      );
      expect(await draftCount(t, a.companyId)).toBe(before);
      // The same on a PATCH of an existing draft; an ordinary pattern (an optional group too) is fine.
      const created = await client(t, a.member).post('/v1/drafts', validDraft());
      const url = `/v1/drafts/${created.body.id}`;
      const schema = (pattern: string) => ({
        inputSchema: {
          type: 'object',
          properties: { vendorId: { type: 'string', pattern }, amount: { type: 'number' } },
        },
      });
      const bad = await client(t, a.member).patch(url, schema('^(?!x)y$'));
      expectProblem(bad, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(bad)).toEqual(['inputSchema.properties.vendorId.pattern']);
      const ok = await client(t, a.member).patch(url, schema('^[A-Z]{2}(-[0-9]{1,3})?$'));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    });

    it(
      'runs hostile patterns (exponential on a backtracking engine) on a linear-time engine: n = 10,000 answers',
      { timeout: 60_000 },
      async () => {
        const hostile: [string, string][] = [
          ['^(\\w|\\d)*$', '1'],
          ['^(a|a)*$', 'a'],
          ['^(a|aa)*$', 'a'],
          ['^([a-z]|[a-c])*$', 'a'],
        ];
        for (const [pattern, unit] of hostile) {
          const created = await client(t, a.manager).post(
            '/v1/drafts',
            validDraft({
              name: `Hostile ${pattern}`,
              inputSchema: {
                type: 'object',
                properties: { vendorId: { type: 'string', pattern }, amount: { type: 'number' } },
              },
            }),
          );
          expect(created.status, JSON.stringify(created.body)).toBe(201);
          const published = await client(t, a.manager).post(`/v1/drafts/${created.body.id}/publish`);
          expect(published.status, JSON.stringify(published.body)).toBe(200);
          const run = await client(t, a.member)
            .post('/v1/runs', {
              draftVersionId: published.body.publishedVersionId,
              input: { vendorId: `${unit.repeat(10_000)}!`, amount: 1 },
            })
            .timeout(30_000);
          expectProblem(run, 400, 'VALIDATION_FAILED');
          expect(fieldsOf(run)).toEqual(['input.vendorId']);
        }
      },
    );

    it('refuses a NUL (\\u0000) anywhere in a draft body, naming the field, and stores nothing', async () => {
      const before = await draftCount(t, a.companyId);
      const res = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Vendor\u0000check' }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['name']);
      const step = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ steps: [{ ...validDraft().steps[0], input: { note: 'x\u0000' } }] }),
      );
      expect(fieldsOf(step)).toEqual(['steps.0.input.note']);
      expect(await draftCount(t, a.companyId)).toBe(before);
    });

    it('validates every save: a bad PATCH answers with paths and changes nothing', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft());
      const url = `/v1/drafts/${created.body.id}`;
      const steps = [...created.body.steps, { id: 'lookup', kind: 'sleep', name: 'Nap' }];
      const bad = await client(t, a.member).patch(url, { steps, name: '' });
      expectProblem(bad, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(bad)).toEqual(['name', 'steps.2.id', 'steps.2.kind']);
      expectProblem(await client(t, a.member).patch(url, { version: 7 }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await client(t, a.member).patch(url, { companyId: b.companyId }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(await client(t, a.member).patch(url, { name: null }), 400, 'VALIDATION_FAILED');
      const huge = Array.from({ length: 10_000 }, (_, i) => ({
        id: `s${i}`,
        kind: 'tool',
        name: 'S',
        toolId: 'a.b',
      }));
      const tooMany = await client(t, a.member).patch(url, { steps: huge });
      expect(tooMany.body.errors).toEqual([
        { field: 'steps', message: `must hold at most ${MAX_STEPS} steps (got 10000)` },
      ]);
      const catalogKey = await client(t, a.member).patch(url, { key: catalog[0].definition.key });
      expectProblem(catalogKey, 409, 'CONFLICT');
      const after = await client(t, a.member).get(url);
      expect(after.body).toEqual(created.body);
      expect(await auditCount(t, a.companyId, 'draft.updated', created.body.id)).toBe(0);
    });

    it('lists drafts newest first with filters and a cursor', async () => {
      const c = await createCompanySession(t, 'Drafts list');
      const ids: string[] = [];
      for (const [name, category] of [
        ['Alpha onboarding', 'hr'],
        ['Beta payroll', 'hr'],
        ['Gamma invoices', 'finance'],
      ]) {
        ids.push((await client(t, c.member).post('/v1/drafts', validDraft({ name, category }))).body.id);
      }
      await client(t, c.manager).post(`/v1/drafts/${ids[0]}/publish`);
      const page1 = await client(t, c.member).get('/v1/drafts?limit=2');
      expect(page1.body.data.map((d: Json) => d.id)).toEqual([ids[2], ids[1]]);
      expect(page1.body.data[0]).not.toHaveProperty('steps');
      const page2 = await client(t, c.member).get(`/v1/drafts?limit=2&cursor=${page1.body.nextCursor}`);
      expect(page2.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
      const hr = await client(t, c.member).get('/v1/drafts?category=hr');
      expect(hr.body.data.map((d: Json) => d.id)).toEqual([ids[1], ids[0]]);
      const published = await client(t, c.member).get('/v1/drafts?status=published');
      expect(published.body.data.map((d: Json) => d.id)).toEqual([ids[0]]);
      const search = await client(t, c.member).get('/v1/drafts?q=PAYROLL');
      expect(search.body.data.map((d: Json) => d.id)).toEqual([ids[1]]);
      const wildcard = await client(t, c.member).get('/v1/drafts?q=%25');
      expect(wildcard.body.data).toEqual([]);
      expectProblem(await client(t, c.member).get('/v1/drafts?status=archived'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('publishing and versions', () => {
    it('publishes v1, keeps it intact while the working copy becomes v2, then publishes v2', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Versioned' }));
      const id = created.body.id as string;
      const v1 = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      expect(v1.status, JSON.stringify(v1.body)).toBe(200);
      expect(v1.body).toMatchObject({
        status: 'published',
        version: 1,
        publishedVersion: 1,
        hasUnpublishedChanges: false,
      });
      const v1Id = v1.body.publishedVersionId as string;
      expect(await auditCount(t, a.companyId, 'draft.published', id)).toBe(1);

      // Nothing changed: publishing again is refused.
      expectProblem(await client(t, a.manager).post(`/v1/drafts/${id}/publish`), 409, 'CONFLICT');

      const edited = await client(t, a.member).patch(`/v1/drafts/${id}`, {
        name: 'Versioned, second edition',
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        status: 'published',
        version: 2,
        publishedVersion: 1,
        publishedVersionId: v1Id,
        hasUnpublishedChanges: true,
      });
      const oneVersion = await client(t, a.member).get(`/v1/drafts/${id}/versions`);
      expect(oneVersion.body.data.map((v: Json) => v.version)).toEqual([1]);

      const v2 = await client(t, a.admin).post(`/v1/drafts/${id}/publish`);
      expect(v2.body).toMatchObject({ version: 2, publishedVersion: 2, hasUnpublishedChanges: false });
      const v2Id = v2.body.publishedVersionId as string;
      expect(v2Id).not.toBe(v1Id);

      const versions = await client(t, a.member).get(`/v1/drafts/${id}/versions`);
      expect(versions.body.data).toEqual([
        expect.objectContaining({
          id: v2Id,
          version: 2,
          draftId: id,
          key: created.body.key,
          publishedBy: a.admin.userId,
        }),
        expect.objectContaining({
          id: v1Id,
          version: 1,
          draftId: id,
          key: created.body.key,
          publishedBy: a.manager.userId,
        }),
      ]);
      const one = await client(t, a.member).get(`/v1/drafts/${id}/versions/${v1Id}`);
      expect(one.body.definition).toEqual({
        key: created.body.key,
        version: 1,
        name: 'Versioned',
        description: created.body.description,
        category: 'finance',
        inputSchema: created.body.inputSchema,
        steps: created.body.steps,
      });
      const two = await client(t, a.member).get(`/v1/drafts/${id}/versions/${v2Id}`);
      expect(two.body.definition).toMatchObject({ version: 2, name: 'Versioned, second edition' });

      // Both versions can start runs, each with its own definition.
      const run1 = await forRun(a, { draftVersionId: v1Id });
      expect(run1).toEqual({
        source: 'draft',
        id: v1Id,
        key: created.body.key,
        version: 1,
        definition: one.body.definition,
      });
      const run2 = await forRun(a, { draftVersionId: v2Id });
      expect(run2.definition.name).toBe('Versioned, second edition');
      // Copies: changing what forRun returned changes nothing stored.
      run1.definition.steps.length = 0;
      expect((await forRun(a, { draftVersionId: v1Id })).definition.steps).toHaveLength(2);

      // Editing back to the published content is no longer a change to publish.
      await client(t, a.member).patch(`/v1/drafts/${id}`, { name: 'Third' });
      const back = await client(t, a.member).patch(`/v1/drafts/${id}`, { name: 'Versioned, second edition' });
      expect(back.body).toMatchObject({ version: 2, hasUnpublishedChanges: false });
      // A PATCH that changes nothing is answered without an event.
      const events = await auditCount(t, a.companyId, 'draft.updated', id);
      expect(
        (await client(t, a.member).patch(`/v1/drafts/${id}`, { name: 'Versioned, second edition' })).status,
      ).toBe(200);
      expect(await auditCount(t, a.companyId, 'draft.updated', id)).toBe(events);
    });

    it('fixes the key once published', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Key fixing' }));
      const url = `/v1/drafts/${created.body.id}`;
      const renamed = await client(t, a.member).patch(url, { key: 'finance.key-renamed' });
      expect(renamed.body.key).toBe('finance.key-renamed');
      await client(t, a.manager).post(`${url}/publish`);
      const res = await client(t, a.member).patch(url, { key: 'finance.key-renamed-again' });
      expectProblem(res, 409, 'CONFLICT');
      expect(fieldsOf(res)).toEqual(['key']);
    });

    it('unpublishes: no new run can start from any version; publishing again restores the same version', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Unpublishing' }));
      const id = created.body.id as string;
      expectProblem(await client(t, a.manager).post(`/v1/drafts/${id}/unpublish`), 409, 'CONFLICT');
      const published = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      const versionId = published.body.publishedVersionId as string;
      expect((await forRun(a, { draftVersionId: versionId })).version).toBe(1);

      const unpublished = await client(t, a.manager).post(`/v1/drafts/${id}/unpublish`);
      expect(unpublished.status).toBe(200);
      expect(unpublished.body).toMatchObject({ status: 'unpublished', publishedVersionId: versionId });
      await expect(forRun(a, { draftVersionId: versionId })).rejects.toMatchObject({
        status: 409,
        code: 'CONFLICT',
      });
      expectProblem(await client(t, a.manager).post(`/v1/drafts/${id}/unpublish`), 409, 'CONFLICT');
      const versions = await client(t, a.member).get(`/v1/drafts/${id}/versions`);
      expect(versions.body.data.map((v: Json) => v.id)).toEqual([versionId]);
      expect(await auditCount(t, a.companyId, 'draft.unpublished', id)).toBe(1);

      const again = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      expect(again.body).toMatchObject({ status: 'published', version: 1, publishedVersionId: versionId });
      expect((await forRun(a, { draftVersionId: versionId })).id).toBe(versionId);
      const event = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'draft.published' and target_id = $2 order by seq desc limit 1",
        [a.companyId, id],
      );
      expect(event.rows[0].metadata).toEqual({ version: 1, versionId, republished: true });

      // Unpublished with changes: publishing makes the next version.
      await client(t, a.manager).post(`/v1/drafts/${id}/unpublish`);
      await client(t, a.member).patch(`/v1/drafts/${id}`, { description: 'Changed while unpublished.' });
      const v2 = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      expect(v2.body).toMatchObject({ status: 'published', version: 2, publishedVersion: 2 });
    });

    it('keeps versions immutable in the database, for the app role and for the owner alike', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Immutable' }));
      const published = await client(t, a.manager).post(`/v1/drafts/${created.body.id}/publish`);
      const versionId = published.body.publishedVersionId as string;
      const client2 = await t.appRole.connect();
      try {
        await client2.query('begin');
        await client2.query("select set_config('app.company_id', $1, true)", [a.companyId]);
        await expect(
          client2.query("update draft_versions set key = 'x.y' where id = $1", [versionId]),
        ).rejects.toThrow(/permission denied/);
        await client2.query('rollback');
      } finally {
        client2.release();
      }
      await expect(
        t.owner.query('update draft_versions set version = 9 where id = $1', [versionId]),
      ).rejects.toThrow(/immutable/);
      await expect(t.owner.query('delete from draft_versions where id = $1', [versionId])).rejects.toThrow(
        /immutable/,
      );
    });

    it('deletes: a never-published draft is removed; a published one is hidden but its versions are kept', async () => {
      const plain = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ key: 'finance.to-be-removed' }),
      );
      expect((await client(t, a.member).delete(`/v1/drafts/${plain.body.id}`)).status).toBe(204);
      expect((await t.owner.query('select 1 from drafts where id = $1', [plain.body.id])).rowCount).toBe(0);
      // Its key is free again.
      expect(
        (await client(t, a.member).post('/v1/drafts', validDraft({ key: 'finance.to-be-removed' }))).status,
      ).toBe(201);

      const kept = await client(t, a.member).post('/v1/drafts', validDraft({ key: 'finance.to-be-kept' }));
      const id = kept.body.id as string;
      const published = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      const versionId = published.body.publishedVersionId as string;
      expect((await client(t, a.member).delete(`/v1/drafts/${id}`)).status).toBe(204);
      for (const path of [
        `/v1/drafts/${id}`,
        `/v1/drafts/${id}/versions`,
        `/v1/drafts/${id}/versions/${versionId}`,
      ]) {
        expectProblem(await client(t, a.owner).get(path), 404, 'NOT_FOUND');
      }
      expectProblem(await client(t, a.owner).delete(`/v1/drafts/${id}`), 404, 'NOT_FOUND');
      expectProblem(await client(t, a.owner).post(`/v1/drafts/${id}/publish`), 404, 'NOT_FOUND');
      const list = await client(t, a.owner).get('/v1/drafts?limit=100');
      expect(list.body.data.map((d: Json) => d.id)).not.toContain(id);
      const stored = await t.owner.query('select version, definition from draft_versions where id = $1', [
        versionId,
      ]);
      expect(stored.rows).toEqual([
        { version: 1, definition: expect.objectContaining({ key: 'finance.to-be-kept' }) },
      ]);
      await expect(forRun(a, { draftVersionId: versionId })).rejects.toMatchObject({ status: 404 });
      // Its key stays taken, so (key, version) never names two definitions.
      expectProblem(
        await client(t, a.member).post('/v1/drafts', validDraft({ key: 'finance.to-be-kept' })),
        409,
        'CONFLICT',
      );
      const events = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'draft.deleted' and target_id = any($2) order by seq",
        [a.companyId, [plain.body.id, id]],
      );
      expect(events.rows.map((r) => r.metadata)).toEqual([
        { key: 'finance.to-be-removed', kept: false, versions: 0 },
        { key: 'finance.to-be-kept', kept: true, versions: 1 },
      ]);
    });
  });

  describe('the run contract (TemplateSource)', () => {
    it('resolves a catalog template by id, as a copy', async () => {
      const entry = catalog[5];
      const run = await forRun(b, { templateId: entry.id });
      expect(run).toEqual({
        source: 'template',
        id: entry.id,
        key: entry.definition.key,
        version: 1,
        definition: entry.definition,
      });
      run.definition.steps.length = 0;
      run.definition.name = 'changed';
      const again = await forRun(b, { templateId: entry.id });
      expect(again.definition).toEqual(catalog[5].definition);
      expect(again.definition.steps.length).toBeGreaterThan(0);
    });

    it('refuses unknown ids (404), draft ids as template ids, and ambiguous references (400)', async () => {
      await expect(forRun(a, { templateId: MISSING })).rejects.toMatchObject({
        status: 404,
        detail: 'Template not found',
      });
      await expect(forRun(a, { templateId: 'nope' })).rejects.toMatchObject({ status: 404 });
      await expect(forRun(a, { draftVersionId: MISSING })).rejects.toMatchObject({
        status: 404,
        detail: 'DraftVersion not found',
      });
      await expect(forRun(a, { draftVersionId: 'nope' })).rejects.toMatchObject({ status: 404 });
      await expect(forRun(a, {})).rejects.toMatchObject({ status: 400 });
      await expect(forRun(a, { templateId: catalog[0].id, draftVersionId: MISSING })).rejects.toMatchObject({
        status: 400,
      });
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Not a template' }));
      const published = await client(t, a.manager).post(`/v1/drafts/${created.body.id}/publish`);
      await expect(forRun(a, { templateId: published.body.publishedVersionId })).rejects.toMatchObject({
        status: 404,
      });
      await expect(forRun(a, { templateId: created.body.id })).rejects.toMatchObject({ status: 404 });
      await expect(forRun(a, { draftVersionId: catalog[0].id })).rejects.toMatchObject({ status: 404 });
    });
  });

  describe('roles', () => {
    it('members create and edit their own drafts, and cannot touch others’ or publish', async () => {
      const created = await client(t, a.member).post('/v1/drafts', validDraft({ name: 'Owned by member' }));
      const id = created.body.id as string;
      const url = `/v1/drafts/${id}`;
      expect((await client(t, a.member).patch(url, { name: 'Still mine' })).status).toBe(200);

      const missing = await client(t, member2).patch(`/v1/drafts/${MISSING}`, { name: 'x' });
      const denials = [
        await client(t, member2).patch(url, { name: 'Taken over' }),
        await client(t, member2).delete(url),
        await client(t, member2).post(`${url}/publish`),
        await client(t, member2).post(`${url}/unpublish`),
        await client(t, a.member).post(`${url}/publish`),
        await client(t, a.member).post(`${url}/unpublish`),
      ];
      for (const res of denials) {
        expectProblem(res, 404, 'NOT_FOUND');
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
      }
      const denied = await t.owner.query(
        "select actor_id, metadata from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2 order by seq",
        [a.companyId, id],
      );
      expect(denied.rows.map((r) => [r.actor_id, r.metadata.action])).toEqual([
        [member2.userId, 'update'],
        [member2.userId, 'delete'],
        [member2.userId, 'publish'],
        [member2.userId, 'publish'],
        [a.member.userId, 'publish'],
        [a.member.userId, 'publish'],
      ]);
      // Every member reads every draft of the company.
      expect((await client(t, member2).get(url)).body.name).toBe('Still mine');
      expect((await client(t, member2).get(`${url}/versions`)).status).toBe(200);

      // Managers edit anyone's draft and publish; admins unpublish; owners delete.
      const byManager = await client(t, a.manager).patch(url, { name: 'Edited by a manager' });
      expect(byManager.body).toMatchObject({ updatedBy: a.manager.userId, createdBy: a.member.userId });
      expect((await client(t, a.manager).post(`${url}/publish`)).status).toBe(200);
      expect((await client(t, a.admin).post(`${url}/unpublish`)).status).toBe(200);
      expect((await client(t, a.owner).post(`${url}/publish`)).status).toBe(200);
      expect((await client(t, a.owner).delete(url)).status).toBe(204);
    });

    it('lets members delete their own drafts, and every role from manager up delete anyone’s', async () => {
      const mine = await client(t, member2).post('/v1/drafts', validDraft({ name: 'Member two draft' }));
      expect((await client(t, member2).delete(`/v1/drafts/${mine.body.id}`)).status).toBe(204);
      for (const role of ['manager', 'admin', 'owner'] as const) {
        const draft = await client(t, a.member).post('/v1/drafts', validDraft({ name: `For ${role}` }));
        expect((await client(t, a.as(role)).delete(`/v1/drafts/${draft.body.id}`)).status, role).toBe(204);
      }
    });

    it('lets every role create, list and read drafts; refuses anonymous callers', async () => {
      for (const role of ROLES) {
        const res = await client(t, a.as(role)).post(
          '/v1/drafts',
          validDraft({ name: `Created by ${role}` }),
        );
        expect(res.status, role).toBe(201);
        expect((await client(t, a.as(role)).get('/v1/drafts')).status).toBe(200);
        expect((await client(t, a.as(role)).get(`/v1/drafts/${res.body.id}`)).status).toBe(200);
      }
      const some = (await client(t, a.member).get('/v1/drafts')).body.data[0].id as string;
      for (const res of [
        await t.http().get('/v1/drafts'),
        await t.http().post('/v1/drafts').send(validDraft()),
        await t.http().get(`/v1/drafts/${some}`),
        await t.http().patch(`/v1/drafts/${some}`).send({ name: 'x' }),
        await t.http().delete(`/v1/drafts/${some}`),
        await t.http().post(`/v1/drafts/${some}/publish`),
        await t.http().post(`/v1/drafts/${some}/unpublish`),
        await t.http().get(`/v1/drafts/${some}/versions`),
        await t.http().get(`/v1/drafts/${some}/versions/${MISSING}`),
      ]) {
        expectProblem(res, 401, 'UNAUTHENTICATED');
      }
    });
  });

  describe('across companies', () => {
    it("answers 404 to every route on another company's draft and version ids, with no data of theirs", async () => {
      const created = await client(t, a.member).post(
        '/v1/drafts',
        validDraft({ name: 'Secret of A', key: 'finance.secret-of-a' }),
      );
      const id = created.body.id as string;
      const published = await client(t, a.manager).post(`/v1/drafts/${id}/publish`);
      const versionId = published.body.publishedVersionId as string;
      const own = await client(t, b.member).post('/v1/drafts', validDraft({ name: 'B draft' }));
      await client(t, b.manager).post(`/v1/drafts/${own.body.id}/publish`);

      for (const role of ROLES) {
        const c = client(t, b.as(role));
        const missing = await c.get(`/v1/drafts/${MISSING}`);
        const missingVersion = await c.get(`/v1/drafts/${own.body.id}/versions/${MISSING}`);
        const attempts: [Response, Response][] = [
          [await c.get(`/v1/drafts/${id}`), missing],
          [await c.patch(`/v1/drafts/${id}`, { name: 'Owned by B' }), missing],
          [await c.delete(`/v1/drafts/${id}`), missing],
          [await c.post(`/v1/drafts/${id}/publish`), missing],
          [await c.post(`/v1/drafts/${id}/unpublish`), missing],
          [await c.get(`/v1/drafts/${id}/versions`), missing],
          [await c.get(`/v1/drafts/${id}/versions/${versionId}`), missing],
          // A's version under B's own draft.
          [await c.get(`/v1/drafts/${own.body.id}/versions/${versionId}`), missingVersion],
        ];
        for (const [res, reference] of attempts) {
          expectProblem(res, 404, 'NOT_FOUND');
          expect(withoutRequestId(res.body)).toEqual(withoutRequestId(reference.body));
          expect(JSON.stringify(res.body)).not.toContain('Secret of A');
        }
        const list = await c.get('/v1/drafts?limit=100');
        expect(list.body.data.map((d: Json) => d.id)).not.toContain(id);
      }
      // A's draft is exactly as it was.
      const after = await client(t, a.member).get(`/v1/drafts/${id}`);
      expect(after.body).toEqual(published.body);
      const versions = await client(t, a.member).get(`/v1/drafts/${id}/versions`);
      expect(versions.body.data.map((v: Json) => v.id)).toEqual([versionId]);

      // The run contract: A's version is invisible in B's context.
      await expect(forRun(b, { draftVersionId: versionId })).rejects.toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
        detail: 'DraftVersion not found',
      });
      expect((await forRun(a, { draftVersionId: versionId })).key).toBe('finance.secret-of-a');

      // Keys are per company: B may use A's key.
      expect(
        (await client(t, b.member).post('/v1/drafts', validDraft({ key: 'finance.secret-of-a' }))).status,
      ).toBe(201);
    });

    it('ignores company hints in headers and query, and refuses them in bodies', async () => {
      const res = await client(t, b.member)
        .post('/v1/drafts', validDraft({ companyId: a.companyId }))
        .set('X-Company-Id', a.companyId);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const created = await client(t, b.member)
        .post(`/v1/drafts?company_id=${a.companyId}`, validDraft({ name: 'Hinted' }))
        .set('X-Company-Id', a.companyId);
      expect(created.status).toBe(201);
      const row = await t.owner.query('select company_id from drafts where id = $1', [created.body.id]);
      expect(row.rows).toEqual([{ company_id: b.companyId }]);
      const listed = await client(t, b.member)
        .get(`/v1/drafts?company_id=${a.companyId}&limit=100`)
        .set('X-Company-Id', a.companyId);
      const companies = await t.owner.query('select distinct company_id from drafts where id = any($1)', [
        listed.body.data.map((d: Json) => d.id),
      ]);
      expect(companies.rows).toEqual([{ company_id: b.companyId }]);
    });
  });
});
