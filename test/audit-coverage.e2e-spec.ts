/**
 * "Every state-changing endpoint of every module writes an audit event in the same transaction", checked over
 * the whole route table.
 *
 * Coverage: every mutating route (POST, PUT, PATCH, DELETE; plus reads that write, like the audit export) has
 * a recipe in `RECIPES` that performs one successful request with a unique `X-Request-Id`; the company's audit
 * trail must then hold an event with that request id, of one of the route's expected actions, and no other
 * company may have received one. A mutating route with no recipe (and no reasoned entry in `EXEMPT`) fails the
 * coverage test with its name: a new route cannot skip its audit event unnoticed.
 *
 * To add a route (for example the runs module's `POST /v1/runs`, `/v1/runs/{id}/verdict`, `/cancel`): add a
 * recipe that prepares what it needs with `prep` (not audited here), sends the one request under test with
 * `send` (it carries the request id) and returns the company whose trail must show it:
 *   'POST /v1/runs/{id}/cancel': {
 *     actions: ['run.cancelled'],
 *     run: async ({ a, prep, send }) => {
 *       const run = await prep('POST', '/v1/runs', a.member, { … });
 *       const res = await send('POST', `/v1/runs/${run.id}/cancel`, { token: a.member.accessToken });
 *       return { res, companyId: a.companyId };
 *     },
 *   },
 *
 * Atomicity: with the audit append of one company made to fail (a BEFORE INSERT trigger on `audit_events` that
 * raises for that company only, created and dropped by the test as the database owner), mutating requests
 * must fail and store nothing of their change.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { call } from './harness/http.js';
import { mergeTables, type Recipe, type RecipeContext } from './harness/isolation.js';
import { drainMail, invitationLink, tempOutbox } from './harness/mail.js';
import { collectRoutes, isMutating, matchesRoute, routeKey, type RouteInfo } from './harness/routes.js';
import {
  addMember,
  createCompanySession,
  grantPlatformAdmin,
  login,
  registerCompany,
  TEST_PASSWORD,
  uniqueEmail,
  type Actor,
  type CompanySession,
} from './harness/session.js';

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const hex = (bytes = 4) => randomBytes(bytes).toString('hex');

/** Asserts a 2xx and returns the body. */
function ok(res: Response): Json {
  expect(res.status, res.text).toBeGreaterThanOrEqual(200);
  expect(res.status, res.text).toBeLessThan(300);
  return res.body as Json;
}

const draftBody = (name = `Audit draft ${hex()}`) => ({
  name,
  description: 'An audit coverage fixture.',
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

/** Publishes a fresh draft (preparation) and returns its version id, to start runs from. */
async function publishedVersion(a: CompanySession, prep: RecipeContext['prep']): Promise<string> {
  const d = await prep('POST', '/v1/drafts', a.member, draftBody());
  const published = await prep('POST', `/v1/drafts/${d.id}/publish`, a.manager);
  return published.publishedVersionId as string;
}

const token = (actor: Actor) => actor.accessToken;

const CORE_RECIPES: Record<string, Recipe> = {
  // Identity and sessions.
  'POST /v1/auth/register': {
    actions: ['company.created', 'member.joined'],
    run: async ({ send }) => {
      const res = await send('POST', '/v1/auth/register', {
        body: {
          email: uniqueEmail('ac-register'),
          password: TEST_PASSWORD,
          name: 'Registered',
          companyName: `Audit Reg ${hex()}`,
        },
      });
      return { res, companyId: res.body.company?.id as string };
    },
  },
  'POST /v1/auth/login': {
    actions: ['auth.login'],
    run: async ({ a, send }) => ({
      res: await send('POST', '/v1/auth/login', {
        body: { email: a.member.email, password: TEST_PASSWORD, companySlug: a.slug },
      }),
      companyId: a.companyId,
    }),
  },
  'POST /v1/auth/refresh': {
    actions: ['auth.token_refreshed'],
    run: async ({ t, a, send }) => {
      const { refreshToken } = await login(t, a.member.email, a.slug);
      return {
        res: await send('POST', '/v1/auth/refresh', { body: { refreshToken } }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/auth/logout': {
    actions: ['auth.logout'],
    run: async ({ t, a, send }) => {
      const session = await login(t, a.member.email, a.slug);
      return {
        res: await send('POST', '/v1/auth/logout', {
          token: session.accessToken,
          body: { refreshToken: session.refreshToken },
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/auth/switch-company': {
    actions: ['auth.company_switched'],
    run: async ({ t, a, fresh, send }) => {
      const other = await fresh();
      await addMember(t, other.companyId, 'member', a.manager.email);
      return {
        res: await send('POST', '/v1/auth/switch-company', {
          token: token(a.manager),
          body: { companyId: other.companyId },
        }),
        companyId: other.companyId,
      };
    },
  },
  'POST /v1/platform/companies/{companyId}/switch': {
    actions: ['platform.switched_in'],
    run: async ({ t, a, send }) => {
      const operator = await registerCompany(t, `Audit Operator ${hex()}`);
      await grantPlatformAdmin(t, operator.owner.userId);
      return {
        res: await send('POST', `/v1/platform/companies/${a.companyId}/switch`, {
          token: operator.owner.accessToken,
          body: { reason: 'audit coverage: switch-in is recorded' },
        }),
        companyId: a.companyId,
      };
    },
  },

  // Company administration.
  'PATCH /v1/companies/{companyId}': {
    actions: ['company.updated'],
    run: async ({ a, send }) => ({
      res: await send('PATCH', `/v1/companies/${a.companyId}`, {
        token: token(a.admin),
        body: { name: `Audit Coverage ${hex()}` },
      }),
      companyId: a.companyId,
    }),
  },
  'DELETE /v1/companies/{companyId}': {
    actions: ['company.deletion_scheduled'],
    run: async ({ fresh, send }) => {
      const s = await fresh();
      return {
        res: await send('DELETE', `/v1/companies/${s.companyId}`, { token: token(s.owner) }),
        companyId: s.companyId,
      };
    },
  },
  'POST /v1/companies/{companyId}/restore': {
    actions: ['company.deletion_cancelled'],
    run: async ({ fresh, prep, send }) => {
      const s = await fresh();
      await prep('DELETE', `/v1/companies/${s.companyId}`, s.owner);
      return {
        res: await send('POST', `/v1/companies/${s.companyId}/restore`, { token: token(s.owner) }),
        companyId: s.companyId,
      };
    },
  },
  'PATCH /v1/companies/{companyId}/members/{userId}': {
    actions: ['member.role_changed'],
    run: async ({ t, a, send }) => {
      const { userId } = await addMember(t, a.companyId, 'member');
      return {
        res: await send('PATCH', `/v1/companies/${a.companyId}/members/${userId}`, {
          token: token(a.admin),
          body: { role: 'manager' },
        }),
        companyId: a.companyId,
      };
    },
  },
  'DELETE /v1/companies/{companyId}/members/{userId}': {
    actions: ['member.removed'],
    run: async ({ t, a, send }) => {
      const { userId } = await addMember(t, a.companyId, 'member');
      return {
        res: await send('DELETE', `/v1/companies/${a.companyId}/members/${userId}`, {
          token: token(a.admin),
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/companies/{companyId}/ownership-transfer': {
    actions: ['member.ownership_transferred'],
    run: async ({ fresh, send }) => {
      const s = await fresh();
      return {
        res: await send('POST', `/v1/companies/${s.companyId}/ownership-transfer`, {
          token: token(s.owner),
          body: { userId: s.admin.userId },
        }),
        companyId: s.companyId,
      };
    },
  },
  'POST /v1/companies/{companyId}/invitations': {
    actions: ['member.invited'],
    run: async ({ a, send }) => ({
      res: await send('POST', `/v1/companies/${a.companyId}/invitations`, {
        token: token(a.admin),
        body: { email: uniqueEmail('ac-invite'), role: 'member' },
      }),
      companyId: a.companyId,
    }),
  },
  'DELETE /v1/companies/{companyId}/invitations/{id}': {
    actions: ['invitation.revoked'],
    run: async ({ a, prep, send }) => {
      const inv = await prep('POST', `/v1/companies/${a.companyId}/invitations`, a.admin, {
        email: uniqueEmail('ac-revoke'),
        role: 'member',
      });
      return {
        res: await send('DELETE', `/v1/companies/${a.companyId}/invitations/${inv.id}`, {
          token: token(a.admin),
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/companies/{companyId}/invitations/{id}/resend': {
    actions: ['invitation.resent'],
    run: async ({ a, prep, send }) => {
      const inv = await prep('POST', `/v1/companies/${a.companyId}/invitations`, a.admin, {
        email: uniqueEmail('ac-resend'),
        role: 'member',
      });
      return {
        res: await send('POST', `/v1/companies/${a.companyId}/invitations/${inv.id}/resend`, {
          token: token(a.admin),
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/invitations/accept': {
    actions: ['invitation.accepted', 'member.joined'],
    run: async ({ t, a, outbox, prep, send }) => {
      const email = uniqueEmail('ac-accept');
      await prep('POST', `/v1/companies/${a.companyId}/invitations`, a.admin, { email, role: 'member' });
      await drainMail(t);
      const { token: invitation } = invitationLink(outbox, email);
      return {
        res: await send('POST', '/v1/invitations/accept', {
          body: { token: invitation, name: 'Accepted', password: TEST_PASSWORD },
        }),
        companyId: a.companyId,
      };
    },
  },

  // Connectors.
  'POST /v1/connectors': {
    actions: ['connector.created'],
    run: async ({ a, endpoint, send }) => ({
      res: await send('POST', '/v1/connectors', {
        token: token(a.admin),
        body: { toolId: `ac${hex()}.create`, endpointUrl: endpoint.url('/create'), authScheme: 'none' },
      }),
      companyId: a.companyId,
    }),
  },
  'PATCH /v1/connectors/{id}': {
    actions: ['connector.updated'],
    run: async ({ a, endpoint, prep, send }) => {
      const c = await prep('POST', '/v1/connectors', a.admin, {
        toolId: `ac${hex()}.update`,
        endpointUrl: endpoint.url('/update'),
        authScheme: 'bearer',
        secret: `ac-secret-${hex(8)}`,
      });
      return {
        res: await send('PATCH', `/v1/connectors/${c.id}`, {
          token: token(a.admin),
          body: { endpointUrl: endpoint.url('/update/v2'), secret: `ac-secret-${hex(8)}` },
        }),
        companyId: a.companyId,
      };
    },
  },
  'DELETE /v1/connectors/{id}': {
    actions: ['connector.deleted'],
    run: async ({ a, endpoint, prep, send }) => {
      const c = await prep('POST', '/v1/connectors', a.admin, {
        toolId: `ac${hex()}.delete`,
        endpointUrl: endpoint.url('/delete'),
        authScheme: 'none',
      });
      return {
        res: await send('DELETE', `/v1/connectors/${c.id}`, { token: token(a.admin) }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/connectors/{id}/test': {
    actions: ['connector.tested'],
    run: async ({ a, endpoint, prep, send }) => {
      const c = await prep('POST', '/v1/connectors', a.admin, {
        toolId: `ac${hex()}.test`,
        endpointUrl: endpoint.url('/test'),
        authScheme: 'none',
      });
      return {
        res: await send('POST', `/v1/connectors/${c.id}/test`, { token: token(a.admin), body: {} }),
        companyId: a.companyId,
      };
    },
  },

  // Drafts and the marketplace.
  'POST /v1/runs': {
    actions: ['run.started'],
    run: async ({ a, prep, send }) => {
      const versionId = await publishedVersion(a, prep);
      return {
        res: await send('POST', '/v1/runs', {
          token: token(a.member),
          body: { draftVersionId: versionId, input: { vendorId: `v-${hex()}` } },
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/runs/{id}/cancel': {
    actions: ['run.cancelled'],
    run: async ({ a, prep, send }) => {
      const run = await prep('POST', '/v1/runs', a.member, {
        draftVersionId: await publishedVersion(a, prep),
        input: { vendorId: `v-${hex()}` },
      });
      return {
        res: await send('POST', `/v1/runs/${run.id}/cancel`, { token: token(a.member), body: {} }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/runs/{id}/verdict': {
    actions: ['run.verdict_given', 'run.resumed'],
    run: async ({ t, a, prep, send }) => {
      const run = await prep('POST', '/v1/runs', a.member, {
        draftVersionId: await publishedVersion(a, prep),
        input: { vendorId: `v-${hex()}` },
      });
      // Parked on its approval step as a worker would leave it (no worker runs in this suite).
      await t.owner.query(
        `update runs set status = 'parked', current_step_index = 1, parked_step_id = 'approve',
                parked_min_role = 'manager', parked_prompt = 'Pay?', parked_since = now() where id = $1`,
        [run.id],
      );
      return {
        res: await send('POST', `/v1/runs/${run.id}/verdict`, {
          token: token(a.manager),
          body: { decision: 'approve', comment: 'ok' },
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/drafts': {
    actions: ['draft.created'],
    run: async ({ a, send }) => ({
      res: await send('POST', '/v1/drafts', { token: token(a.member), body: draftBody() }),
      companyId: a.companyId,
    }),
  },
  'PATCH /v1/drafts/{id}': {
    actions: ['draft.updated'],
    run: async ({ a, prep, send }) => {
      const d = await prep('POST', '/v1/drafts', a.member, draftBody());
      return {
        res: await send('PATCH', `/v1/drafts/${d.id}`, {
          token: token(a.member),
          body: { description: 'Changed for the audit coverage check.' },
        }),
        companyId: a.companyId,
      };
    },
  },
  'DELETE /v1/drafts/{id}': {
    actions: ['draft.deleted'],
    run: async ({ a, prep, send }) => {
      const d = await prep('POST', '/v1/drafts', a.member, draftBody());
      return {
        res: await send('DELETE', `/v1/drafts/${d.id}`, { token: token(a.member) }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/drafts/{id}/publish': {
    actions: ['draft.published'],
    run: async ({ a, prep, send }) => {
      const d = await prep('POST', '/v1/drafts', a.member, draftBody());
      return {
        res: await send('POST', `/v1/drafts/${d.id}/publish`, { token: token(a.manager) }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/drafts/{id}/unpublish': {
    actions: ['draft.unpublished'],
    run: async ({ a, prep, send }) => {
      const d = await prep('POST', '/v1/drafts', a.member, draftBody());
      await prep('POST', `/v1/drafts/${d.id}/publish`, a.manager);
      return {
        res: await send('POST', `/v1/drafts/${d.id}/unpublish`, { token: token(a.manager) }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/marketplace/{listingId}/install': {
    actions: ['marketplace.installed'],
    run: async ({ a, prep, send }) => {
      const listings = await prep('GET', '/v1/marketplace?limit=5', a.member);
      const listing = listings.data[randomBytes(1)[0] % listings.data.length];
      return {
        res: await send('POST', `/v1/marketplace/${listing.listingId}/install`, {
          token: token(a.member),
          body: { name: `Installed ${hex()}` },
        }),
        companyId: a.companyId,
      };
    },
  },

  // Audit: a read that writes (the export itself is audited), covered although GET is not a mutating method.
  'GET /v1/audit-events/export': {
    actions: ['audit.exported'],
    run: async ({ a, send }) => ({
      res: await send('GET', '/v1/audit-events/export', { token: token(a.admin) }),
      companyId: a.companyId,
    }),
  },

  // Machine credentials.
  'POST /v1/api-keys': {
    actions: ['api_key.created'],
    run: async ({ a, send }) => ({
      res: await send('POST', '/v1/api-keys', {
        token: token(a.admin),
        body: { name: 'ac-create', role: 'member' },
      }),
      companyId: a.companyId,
    }),
  },
  'DELETE /v1/api-keys/{id}': {
    actions: ['api_key.revoked'],
    run: async ({ a, prep, send }) => {
      const k = await prep('POST', '/v1/api-keys', a.admin, { name: 'ac-revoke', role: 'member' });
      return {
        res: await send('DELETE', `/v1/api-keys/${k.id}`, {
          token: token(a.admin),
          body: { reason: 'audit check' },
        }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/api-keys/{id}/rotate': {
    actions: ['api_key.created', 'api_key.rotated'],
    run: async ({ a, prep, send }) => {
      const k = await prep('POST', '/v1/api-keys', a.admin, { name: 'ac-rotate', role: 'member' });
      return {
        res: await send('POST', `/v1/api-keys/${k.id}/rotate`, { token: token(a.admin), body: {} }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/applications': {
    actions: ['application.created'],
    run: async ({ a, send }) => ({
      res: await send('POST', '/v1/applications', { token: token(a.owner), body: { name: 'AC create' } }),
      companyId: a.companyId,
    }),
  },
  'PATCH /v1/applications/{id}': {
    actions: ['application.updated'],
    run: async ({ a, prep, send }) => {
      const app = await prep('POST', '/v1/applications', a.owner, { name: 'AC update' });
      return {
        res: await send('PATCH', `/v1/applications/${app.id}`, {
          token: token(a.owner),
          body: { name: 'AC updated', role: 'manager' },
        }),
        companyId: a.companyId,
      };
    },
  },
  'DELETE /v1/applications/{id}': {
    actions: ['application.deleted'],
    run: async ({ a, prep, send }) => {
      const app = await prep('POST', '/v1/applications', a.owner, { name: 'AC delete' });
      return {
        res: await send('DELETE', `/v1/applications/${app.id}`, { token: token(a.owner) }),
        companyId: a.companyId,
      };
    },
  },
  'POST /v1/applications/{id}/rotate-secret': {
    actions: ['application.secret_rotated'],
    run: async ({ a, prep, send }) => {
      const app = await prep('POST', '/v1/applications', a.owner, { name: 'AC rotate' });
      return {
        res: await send('POST', `/v1/applications/${app.id}/rotate-secret`, { token: token(a.owner) }),
        companyId: a.companyId,
      };
    },
  },
};

/** Mutating routes that change nothing in a company, and why they write no event. */
const CORE_EXEMPT: Record<string, string> = {
  'POST /v1/oauth/token':
    'issuing a client-credentials access token stores nothing (no row is written); a successful issuance is ' +
    'deliberately not audited (refused secrets are, as application.token_denied)',
};

/** The core's tables and every feature's (`src/<feature>/<feature>.isolation.ts`). */
const RECIPES = mergeTables(CORE_RECIPES, (kit) => kit.recipes);
const EXEMPT = mergeTables(CORE_EXEMPT, (kit) => kit.exemptAudit);

describe('audit coverage: every mutating route records its event with the request id', () => {
  let t: TestApp;
  let a: CompanySession;
  let endpoint: TestEndpoint;
  let outbox: string;
  let routes: RouteInfo[];

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox });
    endpoint = await startTestEndpoint();
    a = await createCompanySession(t, `Audit Coverage ${hex()}`);
    routes = collectRoutes(t.app);
  });
  afterAll(async () => {
    await endpoint?.close();
    await t?.close();
  });

  it('has a recipe (or a reasoned exemption) for every mutating route', () => {
    const mutating = routes.filter(isMutating).map(routeKey);
    const uncovered = mutating.filter((k) => !(k in RECIPES) && !(k in EXEMPT));
    expect(
      uncovered,
      'mutating routes with no audit recipe: add one to RECIPES (or to EXEMPT with the reason it changes nothing)',
    ).toEqual([]);
    const known = new Set(routes.map(routeKey));
    const stale = [...Object.keys(RECIPES), ...Object.keys(EXEMPT)].filter((k) => !known.has(k));
    expect(stale, 'recipes for routes the application does not have (renamed or removed?)').toEqual([]);
  });

  it.each(Object.keys(RECIPES))(
    '%s records its event, with the request id, in the company it changed',
    async (key) => {
      const route = routes.find((r) => routeKey(r) === key);
      expect(route, `${key} is not a route of the application`).toBeDefined();
      const requestId = `audit-coverage-${hex(8)}`;
      let sent = 0;
      const ctx: RecipeContext = {
        t,
        a,
        endpoint,
        outbox,
        fresh: () => createCompanySession(t, `Audit Fresh ${hex()}`),
        prep: async (method, path, actor, body) => {
          const res = await call(t, method, path, { token: actor?.accessToken, body });
          expect(res.status, `preparing ${method} ${path}: ${res.text}`).toBeLessThan(300);
          return res.body as Json;
        },
        send: (method, path, options = {}) => {
          sent += 1;
          expect(
            method === route!.method && matchesRoute(path, route!.path),
            `the request under test (${method} ${path}) must hit the recipe's route`,
          ).toBe(true);
          return call(t, method, path, { ...options, requestId });
        },
      };
      const { res, companyId } = await RECIPES[key].run(ctx);
      expect(sent, 'a recipe sends exactly one request under test').toBe(1);
      expect(res.status, `${key}: ${res.text}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `${key}: ${res.text}`).toBeLessThan(300);
      expect(res.headers['x-request-id']).toBe(requestId);

      const { rows } = await t.owner.query<{ company_id: string; action: string }>(
        'select company_id, action from audit_events where request_id = $1 order by company_id, seq',
        [requestId],
      );
      expect(
        rows.filter((r) => r.company_id === companyId).length,
        `${key} wrote no audit event with its request id in the company it changed`,
      ).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.company_id, 'an event of this request landed in another company').toBe(companyId);
        expect(RECIPES[key].actions, `${key} recorded an unexpected action`).toContain(row.action);
      }
    },
  );
});

describe('audit atomicity: when the audit append fails, the change is not stored', () => {
  let t: TestApp;
  let s: CompanySession;
  let endpoint: TestEndpoint;
  let outbox: string;

  beforeAll(async () => {
    // The failures below are logged as errors by design: keep them out of the test output.
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox, LOG_LEVEL: 'fatal' });
    endpoint = await startTestEndpoint();
    s = await createCompanySession(t, `Audit Atomicity ${hex()}`);
  });
  afterAll(async () => {
    await endpoint?.close();
    await t?.close();
  });

  /**
   * Makes every audit append of one company fail while `fn` runs: a BEFORE INSERT trigger on audit_events that
   * raises for that company id only (other suites share the database and keep appending), dropped in `finally`.
   */
  async function withFailingAudit(companyId: string, fn: () => Promise<void>): Promise<void> {
    if (!/^[0-9a-f-]{36}$/.test(companyId)) throw new Error(`not a uuid: ${companyId}`);
    const name = `test_fail_audit_${hex(6)}`;
    await t.owner.query(
      `create function ${name}() returns trigger language plpgsql as $$
       begin raise exception 'audit append refused by the atomicity test'; end $$`,
    );
    try {
      await t.owner.query(
        `create trigger ${name} before insert on audit_events for each row
         when (new.company_id = '${companyId}'::uuid) execute function ${name}()`,
      );
      await fn();
    } finally {
      await t.owner.query(`drop trigger if exists ${name} on audit_events`);
      await t.owner.query(`drop function if exists ${name}()`);
    }
  }

  it('answers 500 and keeps nothing: connector, settings, draft, invitation and its mail, key, rotation, role, sign-in', async () => {
    const q = async (sql: string, params: unknown[] = []) => (await t.owner.query(sql, params)).rows;
    const state = async () => ({
      company: await q(
        'select name, rate_limit_per_minute, max_concurrent_runs, four_eyes, updated_at from companies where id = $1',
        [s.companyId],
      ),
      connectors: await q('select id from connectors where company_id = $1', [s.companyId]),
      drafts: await q('select id from drafts where company_id = $1', [s.companyId]),
      invitations: await q('select id from invitations where company_id = $1', [s.companyId]),
      mail: await q("select id from mail_outbox where recipient like 'atomic-%'"),
      apiKeys: await q(
        'select id, expires_at, replaced_by_id from api_keys where company_id = $1 order by id',
        [s.companyId],
      ),
      sessions: await q('select id from refresh_tokens where company_id = $1 order by id', [s.companyId]),
      members: await q('select user_id, role from memberships where company_id = $1 order by user_id', [
        s.companyId,
      ]),
      head: await q('select seq, hash from audit_chain_heads where company_id = $1', [s.companyId]),
    });
    const keyToRotate = ok(
      await call(t, 'POST', '/v1/api-keys', {
        token: s.owner.accessToken,
        body: { name: 'atomic-rotate', role: 'member' },
      }),
    );
    const before = await state();
    const rateLimitBefore = (
      await call(t, 'GET', `/v1/companies/${s.companyId}`, { token: s.admin.accessToken })
    ).headers['ratelimit-limit'];

    const attempts: { what: string; method: string; path: string; body?: unknown; anonymous?: true }[] = [
      {
        what: 'create connector',
        method: 'POST',
        path: '/v1/connectors',
        body: {
          toolId: 'atomic.create',
          endpointUrl: endpoint.url('/atomic'),
          authScheme: 'bearer',
          secret: 'atomic-secret',
        },
      },
      {
        what: 'change settings',
        method: 'PATCH',
        path: `/v1/companies/${s.companyId}`,
        body: { name: 'Atomic Renamed', rateLimitPerMinute: 50_000 },
      },
      { what: 'create draft', method: 'POST', path: '/v1/drafts', body: draftBody('Atomic draft') },
      {
        what: 'invite',
        method: 'POST',
        path: `/v1/companies/${s.companyId}/invitations`,
        body: { email: `atomic-${hex()}@example.test`, role: 'member' },
      },
      {
        what: 'create API key',
        method: 'POST',
        path: '/v1/api-keys',
        body: { name: 'atomic', role: 'member' },
      },
      { what: 'rotate API key', method: 'POST', path: `/v1/api-keys/${keyToRotate.id}/rotate`, body: {} },
      {
        what: 'change a role',
        method: 'PATCH',
        path: `/v1/companies/${s.companyId}/members/${s.member.userId}`,
        body: { role: 'manager' },
      },
      {
        what: 'sign in',
        method: 'POST',
        path: '/v1/auth/login',
        body: { email: s.manager.email, password: TEST_PASSWORD, companySlug: s.slug },
        anonymous: true,
      },
    ];
    const send = (attempt: (typeof attempts)[number]) =>
      call(t, attempt.method, attempt.path, {
        token: attempt.anonymous ? undefined : s.owner.accessToken,
        body: attempt.body,
      });

    await withFailingAudit(s.companyId, async () => {
      for (const attempt of attempts) {
        const res = await send(attempt);
        expect(res.status, `${attempt.what}: ${res.text}`).toBe(500);
        expect(res.body).toMatchObject({ code: 'INTERNAL', requestId: expect.any(String) });
        // No SQL, trigger text or stack in the answer, and no session or secret handed out.
        expect(res.text).not.toMatch(/audit_events|atomicity test|insert|at .*\.ts|Token|secret|sk_live_/i);
      }
    });
    expect(await state()).toEqual(before);

    // Restored: the same requests succeed, the settings cache and rate limit were never touched by the failure,
    // and the chain is intact.
    const after = await call(t, 'GET', `/v1/companies/${s.companyId}`, { token: s.admin.accessToken });
    expect(after.body).toMatchObject({ name: before.company[0].name, rateLimitPerMinute: null });
    expect(after.headers['ratelimit-limit']).toBe(rateLimitBefore);
    let events = 0;
    for (const attempt of attempts) {
      const res = await send(attempt);
      expect(res.status, `${attempt.what} after the trigger is gone: ${res.text}`).toBeLessThan(300);
      events += attempt.what === 'rotate API key' ? 2 : 1;
    }
    const verify = await call(t, 'GET', '/v1/audit-events/verify', { token: s.admin.accessToken });
    expect(verify.body).toMatchObject({ valid: true });
    expect(verify.body.headSeq).toBe(Number(before.head[0].seq) + events);
  });

  it('answers 500 and keeps nothing: member removal, invitation revoke, resend and accept, ownership transfer, deletion and restore', async () => {
    const c = await createCompanySession(t, `Audit Atomicity Admin ${hex()}`);
    const q = async (sql: string, params: unknown[] = [c.companyId]) =>
      (await t.owner.query(sql, params)).rows;
    const leaver = await addMember(t, c.companyId, 'member');
    await login(t, leaver.email, c.slug); // a session of the leaver, which removal would revoke
    const invitations = `/v1/companies/${c.companyId}/invitations`;
    const invite = async (what: string) => {
      const email = `atomic-${what}-${hex()}@example.test`;
      const res = await call(t, 'POST', invitations, {
        token: c.owner.accessToken,
        body: { email, role: 'member' },
      });
      return { id: ok(res).id as string, email };
    };
    const toRevoke = await invite('revoke');
    const toResend = await invite('resend');
    const toAccept = await invite('accept');
    await drainMail(t);
    const acceptToken = invitationLink(outbox, toAccept.email).token;
    const state = async () => ({
      company: await q('select name, purge_after, deletion_requested_at from companies where id = $1'),
      invitations: await q(
        `select id, token_hash, expires_at, revoked_at, accepted_at, accepted_by, resend_count, last_sent_at
           from invitations where company_id = $1 order by id`,
      ),
      sends: await q('select id from invitation_sends where company_id = $1 order by id'),
      mail: await q('select id, sent_at from mail_outbox where company_id = $1 order by id'),
      members: await q('select user_id, role from memberships where company_id = $1 order by user_id'),
      sessions: await q('select id, revoked_at from refresh_tokens where company_id = $1 order by id'),
      joiner: await q('select id from users where email = $1', [toAccept.email]),
      head: await q('select seq, hash from audit_chain_heads where company_id = $1'),
    });
    const member = `/v1/companies/${c.companyId}/members/${leaver.userId}`;
    const attempts: { what: string; method: string; path: string; body?: unknown; anonymous?: true }[] = [
      { what: 'remove a member', method: 'DELETE', path: member },
      { what: 'revoke an invitation', method: 'DELETE', path: `${invitations}/${toRevoke.id}` },
      { what: 'resend an invitation', method: 'POST', path: `${invitations}/${toResend.id}/resend` },
      {
        what: 'accept an invitation',
        method: 'POST',
        path: '/v1/invitations/accept',
        body: { token: acceptToken, name: 'Atomic Joiner', password: TEST_PASSWORD },
        anonymous: true,
      },
      {
        what: 'transfer ownership',
        method: 'POST',
        path: `/v1/companies/${c.companyId}/ownership-transfer`,
        body: { userId: c.admin.userId },
      },
    ];
    const send = (attempt: { method: string; path: string; body?: unknown; anonymous?: true }) =>
      call(t, attempt.method, attempt.path, {
        token: attempt.anonymous ? undefined : c.owner.accessToken,
        body: attempt.body,
      });
    const deletion = { method: 'DELETE', path: `/v1/companies/${c.companyId}` };
    const restore = { method: 'POST', path: `/v1/companies/${c.companyId}/restore` };
    const refused = (what: string, res: Response) => {
      expect(res.status, `${what}: ${res.text}`).toBe(500);
      expect(res.body).toMatchObject({ code: 'INTERNAL', requestId: expect.any(String) });
      expect(res.text).not.toMatch(/audit_events|atomicity test|insert|at .*\.ts|Token|secret|inv_/i);
    };

    const before = await state();
    await withFailingAudit(c.companyId, async () => {
      for (const attempt of [...attempts, { what: 'schedule deletion', ...deletion }]) {
        refused(attempt.what, await send(attempt));
      }
    });
    expect(await state()).toEqual(before);

    // Restoring needs a company scheduled for deletion: schedule it for real, then fail the restore.
    expect((await send(deletion)).status).toBe(202);
    const scheduled = await state();
    expect(scheduled.company[0].purge_after).not.toBeNull();
    await withFailingAudit(c.companyId, async () => refused('restore', await send(restore)));
    expect(await state()).toEqual(scheduled);

    // Restored: the same requests succeed, each with its events, and the chain is intact.
    expect((await send(restore)).status).toBe(200);
    for (const attempt of attempts) {
      const res = await send(attempt);
      expect(res.status, `${attempt.what} after the trigger is gone: ${res.text}`).toBeLessThan(300);
    }
    const after = await state();
    expect(after.members.find((m) => m.user_id === leaver.userId)).toBeUndefined();
    expect(after.joiner).toHaveLength(1);
    expect(after.company[0].purge_after).toBeNull();
    // restore, removal, revoke, resend, accept (accepted + joined), transfer.
    expect(Number(after.head[0].seq)).toBe(Number(scheduled.head[0].seq) + 7);
    const verify = await call(t, 'GET', '/v1/audit-events/verify', { token: c.owner.accessToken });
    expect(verify.body).toMatchObject({ valid: true, headSeq: Number(after.head[0].seq) });
  });
});
