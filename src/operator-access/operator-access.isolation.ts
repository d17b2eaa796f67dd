import { randomBytes } from 'node:crypto';
import { call } from '../../test/harness/http.js';
import {
  defineIsolation,
  okBody,
  type BuildContext,
  type RecipeContext,
} from '../../test/harness/isolation.js';
import { grantPlatformAdmin, registerCompany, type CompanySession } from '../../test/harness/session.js';
import type { TestApp } from '../../test/harness/app.js';

const hex = () => randomBytes(4).toString('hex');

/** A platform operator (the owner of a company of their own, with the flag) and their token. */
async function operator(t: TestApp): Promise<string> {
  const home = await registerCompany(t, `XT Operator Home ${hex()}`);
  await grantPlatformAdmin(t, home.owner.userId);
  return home.owner.accessToken;
}

/** Turns on the `approval` policy in `s` and has a new operator ask to switch in: the pending request. */
async function pendingRequest(
  t: TestApp,
  s: CompanySession,
  reason = `XT access ${hex()} for ticket`,
): Promise<{ id: string; token: string; reason: string }> {
  okBody(
    await call(t, 'PATCH', `/v1/companies/${s.companyId}`, {
      token: s.admin.accessToken,
      body: { operatorAccess: 'approval' },
    }),
    'operatorAccess: approval',
  );
  const token = await operator(t);
  const res = await call(t, 'POST', `/v1/platform/companies/${s.companyId}/switch`, {
    token,
    body: { reason, mode: 'write' },
  });
  if (res.status !== 202) throw new Error(`access request: ${res.status} ${res.text}`);
  return { id: (res.body as { id: string }).id, token, reason };
}

async function approved(ctx: RecipeContext): Promise<{ s: CompanySession; id: string; token: string }> {
  const s = await ctx.fresh();
  const r = await pendingRequest(ctx.t, s);
  await ctx.prep('POST', `/v1/operator-access-requests/${r.id}/approve`, s.admin, {});
  return { s, id: r.id, token: r.token };
}

/** Access requests in the cross-tenant and audit-coverage suites. */
export const isolation = defineIsolation({
  fixtures: {
    operatorAccessRequest: async ({ t, s }: BuildContext) => {
      const r = await pendingRequest(t, s);
      return { id: r.id, markers: [r.id, r.reason] };
    },
  },
  routes: {
    'GET /v1/operator-access-requests/{id}': { params: { id: 'operatorAccessRequest' } },
    'POST /v1/operator-access-requests/{id}/approve': {
      params: { id: 'operatorAccessRequest' },
      body: () => ({}),
    },
    'POST /v1/operator-access-requests/{id}/deny': {
      params: { id: 'operatorAccessRequest' },
      body: () => ({}),
    },
  },
  exemptCrossTenant: {
    'GET /v1/platform/companies/{companyId}/access-requests/{id}':
      "platform operators only, and only their own request: another operator's or a missing id answers 404 (test/operator-access.e2e-spec.ts)",
    'POST /v1/platform/companies/{companyId}/access-requests/{id}/token':
      "platform operators only, and only their own request: another operator's or a missing id answers 404 (test/operator-access.e2e-spec.ts)",
  },
  recipes: {
    'POST /v1/operator-access-requests/{id}/approve': {
      actions: ['operator_access.approved'],
      run: async (ctx) => {
        const s = await ctx.fresh();
        const r = await pendingRequest(ctx.t, s);
        const res = await ctx.send('POST', `/v1/operator-access-requests/${r.id}/approve`, {
          token: s.admin.accessToken,
          body: {},
        });
        return { res, companyId: s.companyId };
      },
    },
    'POST /v1/operator-access-requests/{id}/deny': {
      actions: ['operator_access.denied'],
      run: async (ctx) => {
        const s = await ctx.fresh();
        const r = await pendingRequest(ctx.t, s);
        const res = await ctx.send('POST', `/v1/operator-access-requests/${r.id}/deny`, {
          token: s.admin.accessToken,
          body: {},
        });
        return { res, companyId: s.companyId };
      },
    },
    'POST /v1/platform/companies/{companyId}/access-requests/{id}/token': {
      actions: ['platform.switched_in'],
      run: async (ctx) => {
        const { s, id, token } = await approved(ctx);
        const res = await ctx.send(
          'POST',
          `/v1/platform/companies/${s.companyId}/access-requests/${id}/token`,
          {
            token,
            body: {},
          },
        );
        return { res, companyId: s.companyId };
      },
    },
  },
});
