/**
 * The promise, checked over the whole route table: a caller only ever sees and changes its own company's data;
 * another company's id answers 404 exactly like a missing one.
 *
 * Company A gets one of every resource reachable by id (`fixtures`); company B gets the same (so B's lists are
 * not empty and multi-id routes can mix A's and B's ids). Every route with a path parameter is then called by
 * each of B's principals with A's ids substituted, and must answer a 404 identical (minus `requestId`) to the
 * same request with a random UUID, showing nothing of A. A route with a path parameter that `ROUTES` does not
 * cover (and `EXEMPT` does not excuse) fails the coverage test: a new route cannot skip this suite.
 *
 * How to add a resource type (for example runs, once the runs module is merged):
 *   1. Add a builder to `fixtures` that creates one through the API in company `s` and returns its id and
 *      `markers` (every unique string that must never reach another company: id, names, emails, URLs,
 *      secrets). Use `need('draftVersion')` for what it depends on:
 *        run: async ({ t, s, need }) => {
 *          const version = await need('draftVersion');
 *          const res = await call(t, 'POST', '/v1/runs', { token: s.member.accessToken, body: { … } });
 *          const body = ok(res, 'run');
 *          return { id: body.id, markers: [body.id] };
 *        },
 *   2. Map each of its routes in `ROUTES` to the resource type of each path parameter, with a body that would
 *      be valid (so a 400 cannot hide the answer):
 *        'GET /v1/runs/{id}': { params: { id: 'run' } },
 *        'POST /v1/runs/{id}/verdict': { params: { id: 'run' }, body: () => ({ verdict: 'approve' }) },
 *   3. If a request body carries an id of another resource (`draftVersionId`, `templateId`, …), add a case
 *      to the "ids in bodies" test.
 * Until that is done the coverage test fails and lists the routes: that is intended.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { decodeJwt } from 'jose';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/common/ids.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { call, visibleText, type CallOptions } from './harness/http.js';
import { drainMail, invitationLink, tempOutbox } from './harness/mail.js';
import {
  mergeTables,
  type Built,
  type BuildContext,
  type FixtureBuilder,
  type RouteCase,
} from './harness/isolation.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import {
  collectRoutes,
  fillPath,
  isMutating,
  pathParams,
  routeKey,
  type RouteInfo,
} from './harness/routes.js';
import {
  addMember,
  createCompanySession,
  login,
  uniqueEmail,
  type CompanySession,
} from './harness/session.js';

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const hex = (bytes = 4) => randomBytes(bytes).toString('hex');

/** Asserts a 2xx and returns the body. */
function ok(res: Response, what: string): Json {
  expect(res.status, `${what}: ${res.status} ${res.text}`).toBeGreaterThanOrEqual(200);
  expect(res.status, `${what}: ${res.status} ${res.text}`).toBeLessThan(300);
  return res.body as Json;
}

const draftBody = (name: string) => ({
  name,
  description: 'A cross-tenant fixture.',
  category: 'finance',
  inputSchema: { type: 'object', properties: { vendorId: { type: 'string' } } },
  steps: [
    {
      id: 'lookup',
      kind: 'tool',
      name: 'Look the vendor up',
      toolId: 'erp.vendor.lookup',
      input: { vendorId: '{{input.vendorId}}' },
    },
    { id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Pay?' },
  ],
});

// ---------------------------------------------------------------------------------------------------------
// Fixtures: one builder per resource type reachable by id.

const CORE_FIXTURES: Record<string, FixtureBuilder> = {
  company: async ({ s }: BuildContext): Promise<Built> => ({
    id: s.companyId,
    markers: [s.companyId, s.name, s.slug],
  }),
  member: async ({ t, s }: BuildContext): Promise<Built> => {
    const email = uniqueEmail('xt-member');
    const { userId } = await addMember(t, s.companyId, 'member', email);
    return { id: userId, markers: [userId, email] };
  },
  invitation: async ({ t, s }: BuildContext): Promise<Built> => {
    const email = uniqueEmail('xt-invitee');
    const body = ok(
      await call(t, 'POST', `/v1/companies/${s.companyId}/invitations`, {
        token: s.owner.accessToken,
        body: { email, role: 'member' },
      }),
      'invitation',
    );
    return { id: body.id, markers: [body.id, email] };
  },
  connector: async ({ t, s, endpoint }: BuildContext): Promise<Built> => {
    const tag = hex();
    const path = `/xt-endpoint-${tag}`;
    const secret = `xt_secret_${hex(16)}`;
    const body = ok(
      await call(t, 'POST', '/v1/connectors', {
        token: s.admin.accessToken,
        body: { toolId: `xt${tag}.lookup`, endpointUrl: endpoint.url(path), authScheme: 'bearer', secret },
      }),
      'connector',
    );
    return {
      id: body.id,
      markers: [body.id, body.toolId, body.endpointUrl, path, secret],
      extra: { toolId: body.toolId },
    };
  },
  draft: async ({ t, s }: BuildContext): Promise<Built> => {
    const name = `XT Draft ${hex()}`;
    const draft = ok(
      await call(t, 'POST', '/v1/drafts', { token: s.member.accessToken, body: draftBody(name) }),
      'draft',
    );
    const published = ok(
      await call(t, 'POST', `/v1/drafts/${draft.id}/publish`, { token: s.manager.accessToken }),
      'publish',
    );
    // An unpublished edit, so the working copy differs from the version.
    ok(
      await call(t, 'PATCH', `/v1/drafts/${draft.id}`, {
        token: s.member.accessToken,
        body: { description: `Edited ${hex()}` },
      }),
      'edit draft',
    );
    return {
      id: draft.id,
      markers: [draft.id, draft.key, name],
      extra: { versionId: published.publishedVersionId, name },
    };
  },
  draftVersion: async ({ need }: BuildContext): Promise<Built> => {
    const versionId = (await need('draft')).extra!.versionId;
    return { id: versionId, markers: [versionId] };
  },
  run: async ({ t, s, need }: BuildContext): Promise<Built> => {
    const vendorId = `xt-vendor-${hex()}`;
    const body = ok(
      await call(t, 'POST', '/v1/runs', {
        token: s.member.accessToken,
        body: { draftVersionId: (await need('draftVersion')).id, input: { vendorId } },
      }),
      'run',
    );
    return { id: body.id, markers: [body.id, vendorId] };
  },
  apiKey: async ({ t, s }: BuildContext): Promise<Built> => {
    const name = `xt-key-${hex()}`;
    const body = ok(
      await call(t, 'POST', '/v1/api-keys', { token: s.admin.accessToken, body: { name, role: 'member' } }),
      'api key',
    );
    return { id: body.id, markers: [body.id, name, body.key] };
  },
  application: async ({ t, s }: BuildContext): Promise<Built> => {
    const name = `XT App ${hex()}`;
    const description = `xt-description-${hex()}`;
    const body = ok(
      await call(t, 'POST', '/v1/applications', {
        token: s.owner.accessToken,
        body: { name, description, role: 'member' },
      }),
      'application',
    );
    return { id: body.id, markers: [body.id, name, description, body.clientId, body.clientSecret] };
  },
};

/** The core's builders and every feature's (`src/<feature>/<feature>.isolation.ts`). */
const fixtures = mergeTables(CORE_FIXTURES, (kit) => kit.fixtures);

type ResourceType = string;
type BuiltSet = Record<ResourceType, Built>;

async function buildAll(t: TestApp, s: CompanySession, endpoint: TestEndpoint): Promise<BuiltSet> {
  const cache = new Map<string, Promise<Built>>();
  const need = (type: string): Promise<Built> => {
    if (!(type in fixtures)) throw new Error(`no fixture builder for ${type}`);
    let pending = cache.get(type);
    if (!pending) {
      pending = fixtures[type]({ t, s, endpoint, need });
      cache.set(type, pending);
    }
    return pending;
  };
  const out: Partial<BuiltSet> = {};
  for (const type of Object.keys(fixtures)) out[type] = await need(type);
  return out as BuiltSet;
}

const idsOf = (built: BuiltSet) =>
  Object.fromEntries(Object.entries(built).map(([type, b]) => [type, b.id])) as Record<ResourceType, string>;

// ---------------------------------------------------------------------------------------------------------
// The route map: for every route with a path parameter, the resource type of each parameter and a valid body.

const CORE_ROUTES: Record<string, RouteCase> = {
  'GET /v1/api-keys/{id}': { params: { id: 'apiKey' } },
  'DELETE /v1/api-keys/{id}': { params: { id: 'apiKey' }, body: () => ({ reason: 'cross-tenant probe' }) },
  'POST /v1/api-keys/{id}/rotate': { params: { id: 'apiKey' }, body: () => ({ overlapHours: 1 }) },

  'GET /v1/applications/{id}': { params: { id: 'application' } },
  'PATCH /v1/applications/{id}': { params: { id: 'application' }, body: () => ({ name: 'Probe' }) },
  'DELETE /v1/applications/{id}': { params: { id: 'application' } },
  'POST /v1/applications/{id}/rotate-secret': { params: { id: 'application' } },

  'GET /v1/companies/{companyId}': { params: { companyId: 'company' } },
  'PATCH /v1/companies/{companyId}': { params: { companyId: 'company' }, body: () => ({ name: 'Probe' }) },
  'DELETE /v1/companies/{companyId}': { params: { companyId: 'company' } },
  'POST /v1/companies/{companyId}/restore': { params: { companyId: 'company' } },
  'POST /v1/companies/{companyId}/ownership-transfer': {
    params: { companyId: 'company' },
    body: (a) => ({ userId: a.member }),
  },
  'GET /v1/companies/{companyId}/members': { params: { companyId: 'company' } },
  'PATCH /v1/companies/{companyId}/members/{userId}': {
    params: { companyId: 'company', userId: 'member' },
    body: () => ({ role: 'manager' }),
  },
  'DELETE /v1/companies/{companyId}/members/{userId}': { params: { companyId: 'company', userId: 'member' } },
  'GET /v1/companies/{companyId}/invitations': { params: { companyId: 'company' } },
  'POST /v1/companies/{companyId}/invitations': {
    params: { companyId: 'company' },
    body: () => ({ email: uniqueEmail('xt-probe'), role: 'member' }),
  },
  'DELETE /v1/companies/{companyId}/invitations/{id}': { params: { companyId: 'company', id: 'invitation' } },
  'POST /v1/companies/{companyId}/invitations/{id}/resend': {
    params: { companyId: 'company', id: 'invitation' },
  },

  'GET /v1/connectors/{id}': { params: { id: 'connector' } },
  'PATCH /v1/connectors/{id}': { params: { id: 'connector' }, body: () => ({ toolId: 'probe.renamed' }) },
  'DELETE /v1/connectors/{id}': { params: { id: 'connector' } },
  'POST /v1/connectors/{id}/test': { params: { id: 'connector' }, body: () => ({ input: { probe: true } }) },

  'GET /v1/drafts/{id}': { params: { id: 'draft' } },
  'PATCH /v1/drafts/{id}': { params: { id: 'draft' }, body: () => ({ name: 'Probe' }) },
  'DELETE /v1/drafts/{id}': { params: { id: 'draft' } },
  'POST /v1/drafts/{id}/publish': { params: { id: 'draft' } },
  'POST /v1/drafts/{id}/unpublish': { params: { id: 'draft' } },
  'GET /v1/drafts/{id}/versions': { params: { id: 'draft' } },
  'GET /v1/drafts/{id}/versions/{versionId}': { params: { id: 'draft', versionId: 'draftVersion' } },

  'GET /v1/runs/{id}': { params: { id: 'run' } },
  'GET /v1/runs/{id}/events': { params: { id: 'run' } },
  'POST /v1/runs/{id}/verdict': {
    params: { id: 'run' },
    body: () => ({ decision: 'approve', comment: 'cross-tenant probe' }),
  },
  'POST /v1/runs/{id}/cancel': { params: { id: 'run' }, body: () => ({}) },
};

/**
 * Routes with a path parameter that cannot belong to a company, and why. (`POST /v1/invitations/accept` has no
 * path parameter: its token is checked by its own test below, "lets A's invitation token join only A".)
 */
const CORE_EXEMPT: Record<string, string> = {
  'GET /v1/templates/{id}':
    'the governed catalog is global and read-only: the same template for every company (random ids: 404, below)',
  'GET /v1/marketplace/{listingId}': 'marketplace listings are the global catalog (random ids: 404, below)',
  'POST /v1/marketplace/{listingId}/install':
    "the listing is global; the copy lands in the caller's company (random ids: 404, below)",
  'POST /v1/platform/companies/{companyId}/switch':
    'platform operators only: the {companyId} is the target of the switch, not a tenant boundary (non-operators: 403, below)',
};

const ROUTES = mergeTables(CORE_ROUTES, (kit) => kit.routes);
const EXEMPT = mergeTables(CORE_EXEMPT, (kit) => kit.exemptCrossTenant);
const COLLECTION_STATUS = mergeTables({}, (kit) => kit.collectionStatus);

/** Principals of company B that probe A's ids. */
type ActorName = 'owner' | 'admin' | 'member' | 'apiKey' | 'application';

describe("cross-tenant: another company's ids answer exactly like missing ones, on every route", () => {
  let t: TestApp;
  let endpoint: TestEndpoint;
  let outbox: string;
  let a: CompanySession;
  let b: CompanySession;
  let aBuilt: BuiltSet;
  let bBuilt: BuiltSet;
  let aIds: Record<ResourceType, string>;
  let bIds: Record<ResourceType, string>;
  /** Every unique string of company A: none may appear in a response to B. */
  let aMarkers: string[];
  const bTokens = {} as Record<ActorName, string>;
  let routes: RouteInfo[];
  /** What A's owner reads on every GET route before the probes (compared after them). */
  const aSnapshot = new Map<string, { status: number; body: unknown }>();

  const leaks = (res: Response): string[] => {
    const text = visibleText(res);
    return aMarkers.filter((m) => text.includes(m));
  };

  const readA = async () => {
    const out = new Map<string, { status: number; body: unknown }>();
    for (const [key, spec] of Object.entries(ROUTES)) {
      const [method, path] = key.split(' ');
      if (method !== 'GET') continue;
      const values = Object.fromEntries(Object.entries(spec.params).map(([p, type]) => [p, aIds[type]]));
      const res = await call(t, 'GET', fillPath(path, values), { token: a.owner.accessToken });
      out.set(key, { status: res.status, body: res.body as unknown });
    }
    const head = await t.owner.query('select seq, hash from audit_chain_heads where company_id = $1', [
      a.companyId,
    ]);
    out.set('audit chain head', { status: 0, body: head.rows[0] as unknown });
    return out;
  };

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox });
    endpoint = await startTestEndpoint();
    [a, b] = await Promise.all([
      createCompanySession(t, `XT Alpha ${hex()}`),
      createCompanySession(t, `XT Bravo ${hex()}`),
    ]);
    [aBuilt, bBuilt] = await Promise.all([buildAll(t, a, endpoint), buildAll(t, b, endpoint)]);
    aIds = idsOf(aBuilt);
    bIds = idsOf(bBuilt);
    aMarkers = [
      ...new Set([
        ...Object.values(aBuilt).flatMap((x) => x.markers),
        ...(['owner', 'admin', 'manager', 'member'] as const).flatMap((r) => [a.as(r).userId, a.as(r).email]),
      ]),
    ];
    expect(aMarkers.every((m) => m.length >= 8)).toBe(true);

    bTokens.owner = b.owner.accessToken;
    bTokens.admin = b.admin.accessToken;
    bTokens.member = b.member.accessToken;
    const key = ok(
      await call(t, 'POST', '/v1/api-keys', {
        token: b.owner.accessToken,
        body: { name: 'xt-prober', role: 'admin' },
      }),
      "B's API key",
    );
    bTokens.apiKey = key.key;
    const app = ok(
      await call(t, 'POST', '/v1/applications', {
        token: b.owner.accessToken,
        body: { name: 'XT prober', role: 'admin' },
      }),
      "B's application",
    );
    const token = await t.http().post('/v1/oauth/token').send({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    bTokens.application = ok(token, "B's application token").access_token;

    routes = collectRoutes(t.app);
    for (const [k, v] of await readA()) aSnapshot.set(k, v);
  });
  afterAll(async () => {
    await endpoint?.close();
    await t?.close();
  });

  it('covers every route with a path parameter (or exempts it with a reason)', () => {
    const withParams = routes.filter((r) => pathParams(r.path).length > 0).map(routeKey);
    const known = new Set(routes.map(routeKey));
    const uncovered = withParams.filter((k) => !(k in ROUTES) && !(k in EXEMPT));
    expect(
      uncovered,
      'routes with a path parameter and no cross-tenant case: add their resource to `fixtures` and the route to ROUTES',
    ).toEqual([]);
    const stale = [...Object.keys(ROUTES), ...Object.keys(EXEMPT)].filter((k) => !known.has(k));
    expect(stale, 'cases for routes the application does not have (renamed or removed?)').toEqual([]);
    for (const [k, spec] of Object.entries(ROUTES)) {
      expect(Object.keys(spec.params).sort(), k).toEqual(pathParams(k.split(' ')[1]).sort());
    }
    for (const [k, reason] of Object.entries(EXEMPT)) expect(reason.length, k).toBeGreaterThan(20);
  });

  it("lists only B's own data; a company_id query parameter or an X-Company-Id header changes nothing", async () => {
    const collections = routes.filter(
      (r) =>
        r.method === 'GET' && pathParams(r.path).every((p) => p === 'companyId') && !(routeKey(r) in EXEMPT),
    );
    expect(collections.length).toBeGreaterThan(10);
    // Filters and cursors naming A's rows select nothing of A's either.
    const cursorAt = (id: string) => Buffer.from(id).toString('base64url');
    const extraQueries: Record<string, Record<string, string>[]> = {
      'GET /v1/applications': [{ scope: 'account' }, { cursor: cursorAt(aIds.application) }],
      'GET /v1/audit-events': [
        { actorId: a.owner.userId },
        { targetId: aIds.connector },
        { targetType: 'Connector', targetId: aIds.connector },
      ],
      'GET /v1/connectors': [
        { toolId: aBuilt.connector.extra!.toolId },
        { cursor: cursorAt(aIds.connector) },
      ],
      'GET /v1/drafts': [{ q: aBuilt.draft.extra!.name }, { cursor: cursorAt(aIds.draft) }],
      'GET /v1/api-keys': [{ cursor: cursorAt(aIds.apiKey) }],
      'GET /v1/companies/{companyId}/invitations': [{ cursor: cursorAt(aIds.invitation) }],
      'GET /v1/companies/{companyId}/members': [{ cursor: cursorAt(aIds.member) }],
    };
    const expectedStatus = (key: string, actor: ActorName, query: Record<string, string>): number => {
      // B's people are no platform operators.
      if (key === 'GET /v1/platform/companies') return 403;
      // The account scope is for people only.
      if (key === 'GET /v1/applications' && query.scope === 'account' && actor === 'apiKey') return 403;
      return COLLECTION_STATUS[key] ?? 200;
    };
    const issues: string[] = [];
    const seen: string[] = [];
    for (const route of collections) {
      const key = routeKey(route);
      const path = fillPath(route.path, { companyId: b.companyId });
      for (const actor of ['owner', 'admin', 'apiKey'] as const) {
        for (const query of [{}, ...(extraQueries[key] ?? [])]) {
          const label = `${key} ${JSON.stringify(query)} as B's ${actor}`;
          const plain = await call(t, 'GET', path, { token: bTokens[actor], query });
          const steered = await call(t, 'GET', path, {
            token: bTokens[actor],
            query: { ...query, company_id: a.companyId, companyId: a.companyId },
            headers: { 'X-Company-Id': a.companyId },
          });
          seen.push(plain.text ?? '');
          const want = expectedStatus(key, actor, query);
          if (plain.status !== want) issues.push(`${label}: ${plain.status} ${plain.text?.slice(0, 300)}`);
          if (steered.status !== plain.status) issues.push(`${label} steered to A: ${steered.status}`);
          for (const res of [plain, steered]) {
            const leaked = leaks(res);
            if (leaked.length > 0) issues.push(`${label}: shows A's ${leaked.join(', ')}`);
          }
          if (plain.status === 200 && String(plain.headers['content-type']).startsWith('application/json')) {
            const same = Array.isArray(plain.body.data)
              ? isDeepStrictEqual(
                  (plain.body.data as Json[]).map((x) => x.id ?? x.userId ?? x.listingId),
                  (steered.body.data as Json[]).map((x) => x.id ?? x.userId ?? x.listingId),
                )
              : isDeepStrictEqual(plain.body, steered.body);
            if (!same) issues.push(`${label}: company_id / X-Company-Id changed the answer`);
          }
        }
      }
    }
    expect(issues).toEqual([]);
    // The lists are not vacuous: each of B's own fixtures shows up in one of them.
    const all = seen.join('\n');
    const missing = Object.entries(bIds).filter(([, id]) => !all.includes(id));
    expect(missing, "B's fixtures missing from B's own lists").toEqual([]);
  });

  it.each(Object.keys(ROUTES))('%s: B gets a 404 for A’s ids, identical to a missing id', async (key) => {
    const route = routes.find((r) => routeKey(r) === key);
    expect(route, `${key} is not a route of the application`).toBeDefined();
    const spec = ROUTES[key];
    const params = Object.keys(spec.params);
    const body = spec.body ? () => spec.body!(aIds) : () => undefined;
    const issues: string[] = [];

    const send = (values: Record<string, string>, token: string, extra: CallOptions = {}) =>
      call(t, route!.method, fillPath(route!.path, values), {
        token,
        body: body(),
        requestId: `xt-probe-${hex()}`,
        headers: spec.headers,
        ...extra,
      });
    const compare = (res: Response, missing: Response, label: string) => {
      if (res.status !== 404 || res.body?.code !== 'NOT_FOUND') {
        issues.push(`${label}: answered ${res.status} ${res.text?.slice(0, 300)}`);
      }
      if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
        issues.push(`${label}: content-type ${res.headers['content-type']}`);
      }
      if (
        res.status !== missing.status ||
        !isDeepStrictEqual(withoutRequestId(res.body as Json), withoutRequestId(missing.body as Json))
      ) {
        issues.push(
          `${label}: ${res.status} ${res.text} differs from a missing id's ${missing.status} ${missing.text}`,
        );
      }
      const names = (r: Response) => Object.keys(r.headers).sort().join(',');
      if (names(res) !== names(missing)) issues.push(`${label}: headers differ from a missing id's`);
      const leaked = leaks(res);
      if (leaked.length > 0) issues.push(`${label}: shows A's ${leaked.join(', ')}`);
    };

    // Every non-empty choice of parameters taken from A (the others from B's own fixtures).
    for (let mask = 1; mask < 1 << params.length; mask++) {
      const fromA = params.filter((_, i) => mask & (1 << i));
      const values: Record<string, string> = {};
      const missing: Record<string, string> = {};
      for (const p of params) {
        const type = spec.params[p];
        values[p] = fromA.includes(p) ? aIds[type] : bIds[type];
        missing[p] = fromA.includes(p) ? newId() : bIds[type];
      }
      for (const actor of Object.keys(bTokens) as ActorName[]) {
        const label = `B's ${actor} with A's ${fromA.join('+')}`;
        compare(await send(values, bTokens[actor]), await send(missing, bTokens[actor]), label);
      }
      // HEAD (which Fastify answers for every GET route) tells nothing either.
      if (route!.method === 'GET') {
        const path = (v: Record<string, string>) => fillPath(route!.path, v);
        const head = await call(t, 'HEAD', path(values), { token: bTokens.owner });
        const ref = await call(t, 'HEAD', path(missing), { token: bTokens.owner });
        if (head.status !== 404 || head.status !== ref.status) {
          issues.push(`HEAD with A's ${fromA.join('+')}: ${head.status} (missing id: ${ref.status})`);
        }
        if (head.headers['content-length'] !== ref.headers['content-length']) {
          issues.push(`HEAD with A's ${fromA.join('+')}: content-length differs from a missing id's`);
        }
      }
      // Pointing at A by query parameter and header changes nothing.
      const steer: CallOptions = {
        query: { company_id: a.companyId, companyId: a.companyId },
        headers: { 'X-Company-Id': a.companyId },
      };
      compare(
        await send(values, bTokens.owner, steer),
        await send(missing, bTokens.owner, steer),
        `B's owner with A's ${fromA.join('+')}, steered to A`,
      );
      // An invalid body: whatever the answer (400 where validation runs before the lookup), A's ids and a
      // missing id get the same one.
      if (isMutating(route!)) {
        const bad = { xtNotAField: true };
        const res = await send(values, bTokens.owner, { body: bad });
        const ref = await send(missing, bTokens.owner, { body: bad });
        if (
          res.status !== ref.status ||
          !isDeepStrictEqual(withoutRequestId(res.body as Json), withoutRequestId(ref.body as Json))
        ) {
          issues.push(
            `invalid body with A's ${fromA.join('+')}: ${res.status} ${res.text} vs ${ref.status} ${ref.text}`,
          );
        }
        const leaked = leaks(res);
        if (leaked.length > 0) issues.push(`invalid body: shows A's ${leaked.join(', ')}`);
      }
    }
    expect(issues).toEqual([]);
  });

  it("left A's data exactly as it was, and never called A's connector", async () => {
    const after = await readA();
    for (const [k, before] of aSnapshot) expect(after.get(k), k).toEqual(before);
    expect(endpoint.received.map((r) => r.path)).toEqual([]);
  });

  it('answers 404 for missing ids on the exempt global routes, and 403 to non-operators on platform routes', async () => {
    const token = b.owner.accessToken;
    expectProblem(await call(t, 'GET', `/v1/templates/${newId()}`, { token }), 404, 'NOT_FOUND');
    expectProblem(await call(t, 'GET', `/v1/marketplace/${newId()}`, { token }), 404, 'NOT_FOUND');
    expectProblem(
      await call(t, 'POST', `/v1/marketplace/${newId()}/install`, { token, body: {} }),
      404,
      'NOT_FOUND',
    );
    const switched = await call(t, 'POST', `/v1/platform/companies/${a.companyId}/switch`, {
      token,
      body: { reason: 'cross-tenant probe of the platform route' },
    });
    expectProblem(switched, 403, 'FORBIDDEN');
    expect(leaks(switched)).toEqual([]);
    expectProblem(await call(t, 'GET', '/v1/platform/companies', { token }), 403, 'FORBIDDEN');
  });

  it("refuses A's ids inside request bodies like missing ones, and refuses a companyId field", async () => {
    // Ownership transfer to one of A's users.
    const transfer = (userId: string) =>
      call(t, 'POST', `/v1/companies/${b.companyId}/ownership-transfer`, {
        token: b.owner.accessToken,
        body: { userId },
      });
    for (const userId of [aIds.member, a.owner.userId]) {
      const res = await transfer(userId);
      expectProblem(res, 404, 'NOT_FOUND');
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId((await transfer(newId())).body));
      expect(leaks(res)).toEqual([]);
    }
    // Starting a run from A's published draft version.
    const startFrom = (draftVersionId: string) =>
      call(t, 'POST', '/v1/runs', {
        token: b.member.accessToken,
        body: { draftVersionId, input: { vendorId: 'probe' } },
      });
    const started = await startFrom(aIds.draftVersion);
    expectProblem(started, 404, 'NOT_FOUND');
    expect(withoutRequestId(started.body)).toEqual(withoutRequestId((await startFrom(newId())).body));
    expect(leaks(started)).toEqual([]);

    // Switching the session into A.
    const switchTo = (companyId: string) =>
      call(t, 'POST', '/v1/auth/switch-company', { token: b.owner.accessToken, body: { companyId } });
    const switched = await switchTo(a.companyId);
    expectProblem(switched, 404, 'NOT_FOUND');
    expect(withoutRequestId(switched.body)).toEqual(withoutRequestId((await switchTo(newId())).body));
    expect(leaks(switched)).toEqual([]);
    const me = ok(await call(t, 'GET', '/v1/me', { token: b.owner.accessToken }), 'me');
    expect(me).toMatchObject({ role: 'owner', company: { id: b.companyId } });

    // A create steered at A by query parameter and header lands in B.
    const steered = ok(
      await call(t, 'POST', '/v1/connectors', {
        token: b.admin.accessToken,
        query: { company_id: a.companyId, companyId: a.companyId },
        headers: { 'X-Company-Id': a.companyId },
        body: { toolId: `xt${hex()}.steered`, endpointUrl: endpoint.url('/steered'), authScheme: 'none' },
      }),
      'steered create',
    );
    const owner = await t.owner.query('select company_id from connectors where id = $1', [steered.id]);
    expect(owner.rows).toEqual([{ company_id: b.companyId }]);

    // One person in both companies, one Idempotency-Key in each: the key used in A means nothing in B.
    const both = await addMember(t, a.companyId, 'admin', uniqueEmail('xt-both'));
    await addMember(t, b.companyId, 'admin', both.email);
    const idempotencyKey = `xt-idem-${hex()}`;
    const createKey = async (slug: string) => {
      const session = await login(t, both.email, slug);
      return call(t, 'POST', '/v1/api-keys', {
        token: session.accessToken,
        headers: { 'Idempotency-Key': idempotencyKey },
        body: { name: 'xt-idempotent', role: 'member' },
      });
    };
    const inA = ok(await createKey(a.slug), 'key in A');
    aMarkers.push(inA.id, inA.key);
    const inB = await createKey(b.slug);
    expect(inB.status, inB.text).toBe(201);
    expect(leaks(inB)).toEqual([]);
    // The same key again in B replays B's own first response (B's key, never A's).
    const replay = await createKey(b.slug);
    expect(replay.status, replay.text).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(inB.body);
    expect(leaks(replay)).toEqual([]);

    // A companyId in a body is an unknown field: refused, nothing created anywhere.
    const count = async () =>
      (
        await t.owner.query(
          `select (select count(*) from connectors) + (select count(*) from drafts) + (select count(*) from api_keys)
             + (select count(*) from applications) + (select count(*) from invitations) as n`,
        )
      ).rows[0].n as string;
    const creates: [string, string, Json][] = [
      [
        'POST',
        '/v1/connectors',
        { toolId: 'xt.steered', endpointUrl: endpoint.url('/steered'), authScheme: 'none' },
      ],
      ['POST', '/v1/drafts', draftBody('Steered draft')],
      ['POST', '/v1/api-keys', { name: 'steered', role: 'member' }],
      ['POST', '/v1/applications', { name: 'steered' }],
      ['POST', `/v1/companies/${b.companyId}/invitations`, { email: uniqueEmail('steered'), role: 'member' }],
      ['PATCH', `/v1/companies/${b.companyId}`, { name: 'Steered' }],
    ];
    for (const field of ['companyId', 'company_id']) {
      for (const [method, path, body] of creates) {
        const before = await count();
        const res = await call(t, method, path, {
          token: b.owner.accessToken,
          body: { ...body, [field]: a.companyId },
        });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(
          (res.body.errors as { field: string }[]).map((e) => e.field),
          `${method} ${path}`,
        ).toContain(field);
        expect(await count(), `${method} ${path} stored something`).toBe(before);
      }
    }
  });

  it("lets A's invitation token join only A, only for its own email", async () => {
    const email = uniqueEmail('xt-crossing');
    const invited = ok(
      await call(t, 'POST', `/v1/companies/${a.companyId}/invitations`, {
        token: a.owner.accessToken,
        body: { email, role: 'admin' },
      }),
      'invite',
    );
    await drainMail(t);
    const { token } = invitationLink(outbox, email);
    const accept = (body: Json, accessToken?: string) =>
      call(t, 'POST', '/v1/invitations/accept', { token: accessToken, body });
    const unknown = await accept(
      { token: `inv_${randomBytes(32).toString('base64url')}` },
      b.owner.accessToken,
    );
    expectProblem(unknown, 404, 'NOT_FOUND');

    // B's owner (another email) cannot use it, signed in or not.
    const asBOwner = await accept({ token }, b.owner.accessToken);
    expectProblem(asBOwner, 404, 'NOT_FOUND');
    expect(withoutRequestId(asBOwner.body)).toEqual(withoutRequestId(unknown.body));
    expect(leaks(asBOwner)).toEqual([]);
    const rolesOf = async (userId: string) =>
      (
        await t.owner.query<{ company_id: string; role: string }>(
          'select company_id, role from memberships where user_id = $1 order by company_id',
          [userId],
        )
      ).rows;
    expect(await rolesOf(b.owner.userId)).toEqual([{ company_id: b.companyId, role: 'owner' }]);

    // A member of B whose email is the invited one joins A (the token's company), with the invitation's role
    // in A only: their role in B stays as it was.
    const { userId } = await addMember(t, b.companyId, 'member', email);
    const session = await login(t, email, b.slug);
    const joined = await accept({ token }, session.accessToken);
    expect(joined.status, joined.text).toBe(201);
    expect(joined.body).toMatchObject({ company: { id: a.companyId }, role: 'admin', user: { id: userId } });
    expect(decodeJwt(joined.body.accessToken as string)).toMatchObject({
      company_id: a.companyId,
      role: 'admin',
    });
    expect(await rolesOf(userId)).toEqual(
      [
        { company_id: a.companyId, role: 'admin' },
        { company_id: b.companyId, role: 'member' },
      ].sort((x, y) => x.company_id.localeCompare(y.company_id)),
    );
    const events = await t.owner.query<{ company_id: string; action: string }>(
      "select company_id, action from audit_events where target_id = $1 and action = 'invitation.accepted'",
      [invited.id],
    );
    expect(events.rows).toEqual([{ company_id: a.companyId, action: 'invitation.accepted' }]);
    // Used once: it works for nobody now.
    expectProblem(await accept({ token }, session.accessToken), 404, 'NOT_FOUND');
  });
});
