import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/cli/command.js';
import { operatorCommand } from '../src/cli/commands/operator.command.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
import { call } from './harness/http.js';
import { expectProblem } from './harness/problem.js';
import {
  createCompanySession,
  grantPlatformAdmin,
  registerCompany,
  type CompanySession,
} from './harness/session.js';

interface AccessRequest {
  id: string;
  operator: { id: string; email: string };
  reason: string;
  mode: 'read' | 'write';
  status: string;
  expiresAt: string;
  decidedBy: string | null;
}

/**
 * Operator access (issue 17, item 5): the company's `operatorAccess` policy (`open`, `approval`, `off`), the access
 * requests its admins decide, read-only switch-ins unless `mode: "write"`, the CLI break-glass, and the trail.
 */
describe('operator access', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let op: { userId: string; email: string; token: string };
  let other: { userId: string; token: string };
  const out: string[] = [];
  let cli: CliContext;

  const req = (method: string, path: string, token: string, body?: unknown) =>
    call(t, method, path, { token, ...(body === undefined ? {} : { body }) });
  const setPolicy = async (s: CompanySession, policy: string) => {
    const res = await req('PATCH', `/v1/companies/${s.companyId}`, s.admin.accessToken, {
      operatorAccess: policy,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.operatorAccess).toBe(policy);
  };
  const switchIn = (s: CompanySession, body: object, token = op.token) =>
    req('POST', `/v1/platform/companies/${s.companyId}/switch`, token, body);
  const tokenOf = (s: CompanySession, id: string, token = op.token) =>
    req('POST', `/v1/platform/companies/${s.companyId}/access-requests/${id}/token`, token, {});
  const trail = async (companyId: string, action: string) =>
    (
      await t.owner.query<{ actor_type: string; actor_id: string; metadata: Record<string, unknown> }>(
        'select actor_type, actor_id, metadata from audit_events where company_id = $1 and action = $2 order by seq',
        [companyId, action],
      )
    ).rows;

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Access A'), createCompanySession(t, 'Access B')]);
    const home = await registerCompany(t, 'Operator Home');
    await grantPlatformAdmin(t, home.owner.userId);
    op = { userId: home.owner.userId, email: home.owner.email, token: home.owner.accessToken };
    const home2 = await registerCompany(t, 'Other Operator Home');
    await grantPlatformAdmin(t, home2.owner.userId);
    other = { userId: home2.owner.userId, token: home2.owner.accessToken };
    cli = cliContext(t.config, out);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('the setting', () => {
    it('is open by default, shown on GET, changed by admins only, validated', async () => {
      const got = await req('GET', `/v1/companies/${a.companyId}`, a.member.accessToken);
      expect(got.body.operatorAccess).toBe('open');
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}`, a.manager.accessToken, { operatorAccess: 'off' }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}`, a.admin.accessToken, { operatorAccess: 'never' }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}`, a.admin.accessToken, { operatorAccess: null }),
        400,
        'VALIDATION_FAILED',
      );
      await setPolicy(a, 'approval');
      await setPolicy(a, 'open');
      const changes = await trail(a.companyId, 'company.updated');
      expect(changes.at(-1)?.metadata).toMatchObject({
        changes: { operatorAccess: { from: 'approval', to: 'open' } },
      });
    });
  });

  describe('open: a token at once, read-only unless mode is write', () => {
    it('a read switch-in reads but every change is refused (403 on collections, 404 on items)', async () => {
      const board = await req('POST', '/v1/boards', a.manager.accessToken, { name: 'Ops board' });
      expect(board.status).toBe(201);
      const res = await switchIn(a, { reason: 'Ticket 1: customer asked for a look' });
      expect(res.status, res.text).toBe(201);
      expect(res.body.mode).toBe('read');
      const claims = decodeJwt(res.body.accessToken as string);
      expect(claims).toMatchObject({ principal_type: 'platform_admin', operator_mode: 'read' });
      const token = res.body.accessToken as string;

      expect((await req('GET', '/v1/boards', token)).status).toBe(200);
      expect((await req('GET', `/v1/boards/${board.body.id}`, token)).status).toBe(200);
      expect((await req('GET', `/v1/companies/${a.companyId}/members`, token)).status).toBe(200);
      expect((await req('GET', '/v1/audit-events', token)).status).toBe(200);
      expectProblem(await req('POST', '/v1/boards', token, { name: 'Nope' }), 403, 'FORBIDDEN');
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}`, token, { fourEyes: false }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await req('PATCH', `/v1/boards/${board.body.id}`, token, { name: 'x' }),
        404,
        'NOT_FOUND',
      );
      expectProblem(await req('DELETE', `/v1/boards/${board.body.id}`, token), 404, 'NOT_FOUND');
      expect((await req('GET', `/v1/boards/${board.body.id}`, a.member.accessToken)).body.name).toBe(
        'Ops board',
      );
      const me = await req('GET', '/v1/me', token);
      expect(me.body).toMatchObject({ principalType: 'platform_admin', operatorId: op.userId });
    });

    it('a write switch-in changes data as an admin, but not the operator access policy', async () => {
      const res = await switchIn(a, { reason: 'Ticket 2: fix their board names', mode: 'write' });
      expect(res.status, res.text).toBe(201);
      expect(res.body.mode).toBe('write');
      const token = res.body.accessToken as string;
      expect((await req('POST', '/v1/boards', token, { name: 'By operator' })).status).toBe(201);
      expect((await req('PATCH', `/v1/companies/${a.companyId}`, token, { fourEyes: true })).status).toBe(
        200,
      );
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}`, token, { operatorAccess: 'open' }),
        403,
        'FORBIDDEN',
      );
      // The company's access requests are its admins' business, never a switched-in operator's.
      expectProblem(await req('GET', '/v1/operator-access-requests', token), 403, 'FORBIDDEN');
      // Nothing that outlasts the token: no invitations, role changes, group grants or keys.
      expectProblem(
        await req('POST', `/v1/companies/${a.companyId}/invitations`, token, {
          email: 'accomplice@example.test',
          role: 'admin',
        }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await req('PATCH', `/v1/companies/${a.companyId}/members/${a.member.userId}`, token, {
          role: 'admin',
        }),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await req('POST', '/v1/groups', token, { key: 'ops', name: 'Ops', permissions: [] }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await req('POST', '/v1/api-keys', token, { name: 'stay', role: 'admin' }),
        403,
        'FORBIDDEN',
      );
      const switched = await trail(a.companyId, 'platform.switched_in');
      expect(switched.at(-1)).toMatchObject({
        actor_type: 'platform_admin',
        actor_id: op.userId,
        metadata: { reason: 'Ticket 2: fix their board names', mode: 'write' },
      });
    });

    it('refuses an unknown mode', async () => {
      expectProblem(
        await switchIn(a, { reason: 'Ticket 3: mode probe', mode: 'admin' }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('approval', () => {
    let c: CompanySession;
    beforeAll(async () => {
      c = await createCompanySession(t, 'Access Approval');
      await setPolicy(c, 'approval');
    });

    it('creates a pending request (202), which admins see with reason and mode; the token comes after approval, once', async () => {
      const res = await switchIn(c, { reason: 'Ticket 10: repair a stuck run', mode: 'write' });
      expect(res.status, res.text).toBe(202);
      expect(res.body).toMatchObject({
        status: 'pending',
        mode: 'write',
        operator: { id: op.userId, email: op.email },
      });
      expect(res.body.accessToken).toBeUndefined();
      const id = res.body.id as string;

      // Nothing yet for the operator.
      expectProblem(await tokenOf(c, id), 409, 'CONFLICT');
      expect(
        (await req('GET', `/v1/platform/companies/${c.companyId}/access-requests/${id}`, op.token)).body
          .status,
      ).toBe('pending');
      // Another operator cannot see or redeem it.
      expectProblem(
        await req('GET', `/v1/platform/companies/${c.companyId}/access-requests/${id}`, other.token),
        404,
        'NOT_FOUND',
      );
      expectProblem(await tokenOf(c, id, other.token), 404, 'NOT_FOUND');

      const list = await req('GET', '/v1/operator-access-requests?status=pending', c.admin.accessToken);
      expect(list.status).toBe(200);
      expect((list.body.data as AccessRequest[]).map((r) => r.id)).toEqual([id]);
      const one = await req('GET', `/v1/operator-access-requests/${id}`, c.admin.accessToken);
      expect(one.body).toMatchObject({
        reason: 'Ticket 10: repair a stuck run',
        mode: 'write',
        status: 'pending',
      });

      const approved = await req(
        'POST',
        `/v1/operator-access-requests/${id}/approve`,
        c.admin.accessToken,
        {},
      );
      expect(approved.status, approved.text).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', decidedBy: c.admin.userId });
      const window = Date.parse(approved.body.expiresAt as string) - Date.now();
      expect(window).toBeLessThanOrEqual(3600_000);
      expectProblem(
        await req('POST', `/v1/operator-access-requests/${id}/deny`, c.admin.accessToken, {}),
        409,
        'CONFLICT',
      );

      const token = await tokenOf(c, id);
      expect(token.status, token.text).toBe(201);
      expect(token.body).toMatchObject({ mode: 'write', expiresAt: approved.body.expiresAt });
      const claims = decodeJwt(token.body.accessToken as string);
      expect(claims).toMatchObject({
        company_id: c.companyId,
        operator_mode: 'write',
        act: { sub: op.userId },
      });
      expect(claims.exp! * 1000).toBeLessThanOrEqual(Date.parse(approved.body.expiresAt as string) + 1000);
      // Write mode works.
      expect(
        (await req('POST', '/v1/boards', token.body.accessToken as string, { name: 'Fix' })).status,
      ).toBe(201);
      // Single use.
      expectProblem(await tokenOf(c, id), 409, 'CONFLICT');
      expect((await req('GET', `/v1/operator-access-requests/${id}`, c.admin.accessToken)).body.status).toBe(
        'redeemed',
      );

      const requested = await trail(c.companyId, 'operator_access.requested');
      expect(requested.at(-1)).toMatchObject({
        actor_type: 'platform_admin',
        actor_id: op.userId,
        metadata: { reason: 'Ticket 10: repair a stuck run', mode: 'write' },
      });
      expect((await trail(c.companyId, 'operator_access.approved')).at(-1)).toMatchObject({
        actor_type: 'user',
        actor_id: c.admin.userId,
        metadata: { operatorId: op.userId, mode: 'write' },
      });
      expect((await trail(c.companyId, 'platform.switched_in')).at(-1)?.metadata).toMatchObject({
        requestId: id,
        mode: 'write',
      });
    });

    it('a read request yields a read-only token', async () => {
      const res = await switchIn(c, { reason: 'Ticket 11: just looking' });
      expect(res.body.mode).toBe('read');
      expect(
        (await req('POST', `/v1/operator-access-requests/${res.body.id}/approve`, c.owner.accessToken, {}))
          .status,
      ).toBe(200);
      const token = (await tokenOf(c, res.body.id as string)).body.accessToken as string;
      expect((await req('GET', '/v1/boards', token)).status).toBe(200);
      expectProblem(await req('POST', '/v1/boards', token, { name: 'No' }), 403, 'FORBIDDEN');
    });

    it('a denied request never yields a token', async () => {
      const res = await switchIn(c, { reason: 'Ticket 12: please let me in' });
      const denied = await req(
        'POST',
        `/v1/operator-access-requests/${res.body.id}/deny`,
        c.admin.accessToken,
        {},
      );
      expect(denied.status).toBe(200);
      expect(denied.body.status).toBe('denied');
      expectProblem(await tokenOf(c, res.body.id as string), 403, 'FORBIDDEN');
      expectProblem(
        await req('POST', `/v1/operator-access-requests/${res.body.id}/approve`, c.admin.accessToken, {}),
        409,
        'CONFLICT',
      );
      expect((await trail(c.companyId, 'operator_access.denied')).at(-1)).toMatchObject({
        actor_type: 'user',
        actor_id: c.admin.userId,
        metadata: { reason: 'Ticket 12: please let me in' },
      });
    });

    it('expires: an approval unused past its window, and a request left pending', async () => {
      const res = await switchIn(c, { reason: 'Ticket 13: approved too early' });
      const id = res.body.id as string;
      await req('POST', `/v1/operator-access-requests/${id}/approve`, c.admin.accessToken, {});
      await t.owner.query(
        "update operator_access_requests set expires_at = now() - interval '1 second' where id = $1",
        [id],
      );
      expectProblem(await tokenOf(c, id), 403, 'FORBIDDEN');
      expect((await req('GET', `/v1/operator-access-requests/${id}`, c.admin.accessToken)).body.status).toBe(
        'expired',
      );

      const stale = await switchIn(c, { reason: 'Ticket 14: nobody answered' });
      await t.owner.query(
        "update operator_access_requests set expires_at = now() - interval '1 second' where id = $1",
        [stale.body.id],
      );
      expectProblem(
        await req('POST', `/v1/operator-access-requests/${stale.body.id}/approve`, c.admin.accessToken, {}),
        409,
        'CONFLICT',
      );
      const expired = await req('GET', '/v1/operator-access-requests?status=expired', c.admin.accessToken);
      expect((expired.body.data as AccessRequest[]).map((r) => r.id).sort()).toEqual(
        [id, stale.body.id].sort(),
      );
    });

    it('only admins decide, in person: members and managers are refused, API keys too', async () => {
      const res = await switchIn(c, { reason: 'Ticket 15: role probe' });
      const id = res.body.id as string;
      expectProblem(await req('GET', '/v1/operator-access-requests', c.member.accessToken), 403, 'FORBIDDEN');
      expectProblem(
        await req('GET', '/v1/operator-access-requests', c.manager.accessToken),
        403,
        'FORBIDDEN',
      );
      for (const actor of [c.member, c.manager]) {
        expectProblem(
          await req('GET', `/v1/operator-access-requests/${id}`, actor.accessToken),
          404,
          'NOT_FOUND',
        );
        expectProblem(
          await req('POST', `/v1/operator-access-requests/${id}/approve`, actor.accessToken, {}),
          404,
          'NOT_FOUND',
        );
        expectProblem(
          await req('POST', `/v1/operator-access-requests/${id}/deny`, actor.accessToken, {}),
          404,
          'NOT_FOUND',
        );
      }
      const key = await req('POST', '/v1/api-keys', c.admin.accessToken, { name: 'ops', role: 'admin' });
      expect(key.status, key.text).toBe(201);
      expect((await req('GET', `/v1/operator-access-requests/${id}`, key.body.key as string)).status).toBe(
        200,
      );
      expectProblem(
        await req('POST', `/v1/operator-access-requests/${id}/approve`, key.body.key as string, {}),
        404,
        'NOT_FOUND',
      );
      expect((await req('GET', `/v1/operator-access-requests/${id}`, c.admin.accessToken)).body.status).toBe(
        'pending',
      );
    });

    it('an operator who is also an admin of the company cannot approve their own request (four eyes)', async () => {
      const own = await registerCompany(t, 'Operator Own Company');
      await grantPlatformAdmin(t, own.owner.userId);
      const ok = await req('PATCH', `/v1/companies/${own.companyId}`, own.owner.accessToken, {
        operatorAccess: 'approval',
      });
      expect(ok.status).toBe(200);
      const res = await req('POST', `/v1/platform/companies/${own.companyId}/switch`, own.owner.accessToken, {
        reason: 'Ticket 17: approving myself',
      });
      expect(res.status).toBe(202);
      expectProblem(
        await req('POST', `/v1/operator-access-requests/${res.body.id}/approve`, own.owner.accessToken, {}),
        403,
        'FORBIDDEN',
      );
      // Denying one's own request is harmless and allowed.
      expect(
        (await req('POST', `/v1/operator-access-requests/${res.body.id}/deny`, own.owner.accessToken, {}))
          .status,
      ).toBe(200);
    });

    it("another company's admin cannot see or decide the requests (404, like a missing id)", async () => {
      const res = await switchIn(c, { reason: 'Ticket 16: cross-tenant probe' });
      const id = res.body.id as string;
      for (const path of [
        `/v1/operator-access-requests/${id}`,
        '/v1/operator-access-requests/01900000-0000-7000-8000-000000000000',
      ]) {
        expectProblem(await req('GET', path, b.admin.accessToken), 404, 'NOT_FOUND');
        expectProblem(await req('POST', `${path}/approve`, b.admin.accessToken, {}), 404, 'NOT_FOUND');
        expectProblem(await req('POST', `${path}/deny`, b.owner.accessToken, {}), 404, 'NOT_FOUND');
      }
      const list = await req('GET', '/v1/operator-access-requests', b.admin.accessToken);
      expect(list.body.data).toEqual([]);
      // Naming B in the platform path does not reach C's request either.
      expectProblem(await tokenOf(b, id), 404, 'NOT_FOUND');
      expect((await req('GET', `/v1/operator-access-requests/${id}`, c.admin.accessToken)).body.status).toBe(
        'pending',
      );
    });
  });

  describe('off', () => {
    let d: CompanySession;
    beforeAll(async () => {
      d = await createCompanySession(t, 'Access Off');
      await setPolicy(d, 'off');
    });

    it('refuses switch-ins (403), recorded in the company', async () => {
      expectProblem(await switchIn(d, { reason: 'Ticket 20: let me in please' }), 403, 'FORBIDDEN');
      expectProblem(
        await switchIn(d, { reason: 'Ticket 20: let me in please', mode: 'write' }),
        403,
        'FORBIDDEN',
      );
      expect((await trail(d.companyId, 'operator_access.refused')).length).toBe(2);
      expect(await trail(d.companyId, 'platform.switched_in')).toEqual([]);
    });

    it('admits the CLI break-glass, which records its reason in the trail and prints a read-only token', async () => {
      const glass = (...args: string[]) => operatorCommand.run(['break-glass', ...args], cli);
      expect(await glass(d.companyId, op.email)).toBe(2);
      expect(await glass(d.companyId, op.email, '--reason', 'short')).toBe(2);
      expect(await glass('not-a-uuid', op.email, '--reason', 'Incident 7: outage')).toBe(2);
      expect(await glass(d.companyId, d.owner.email, '--reason', 'Incident 7: outage')).toBe(1);

      expect(await glass(d.companyId, op.email, '--reason', 'Incident 7: database outage')).toBe(0);
      const token = out.at(-1)!;
      expect(decodeJwt(token)).toMatchObject({
        company_id: d.companyId,
        operator_mode: 'read',
        act: { sub: op.userId },
      });
      expect((await req('GET', '/v1/boards', token)).status).toBe(200);
      expectProblem(await req('POST', '/v1/boards', token, { name: 'No' }), 403, 'FORBIDDEN');
      expect((await trail(d.companyId, 'operator_access.break_glass')).at(-1)).toMatchObject({
        actor_type: 'platform_admin',
        actor_id: op.userId,
        metadata: { reason: 'Incident 7: database outage', mode: 'read', policy: 'off' },
      });
      expect((await trail(d.companyId, 'platform.switched_in')).at(-1)?.metadata).toMatchObject({
        breakGlass: true,
      });

      expect(await glass(d.companyId, op.userId, '--reason', 'Incident 8: must fix data', '--write')).toBe(0);
      const write = out.at(-1)!;
      expect((await req('POST', '/v1/boards', write, { name: 'Emergency' })).status).toBe(201);
      // Admins see both in their own trail.
      // (`?action=` validates against the core actions only, so the feature's are picked from the page.)
      const seen = await req(
        'GET',
        '/v1/audit-events?actorType=platform_admin&limit=100',
        d.admin.accessToken,
      );
      expect(seen.status, seen.text).toBe(200);
      const actions = (seen.body.data as { action: string }[]).map((e) => e.action);
      expect(actions.filter((x) => x === 'operator_access.break_glass')).toHaveLength(2);
    });

    it('turning access off ends live switch-ins at once; a break-glass token stays', async () => {
      const f = await createCompanySession(t, 'Access Ended');
      const res = await switchIn(f, { reason: 'Ticket 22: working on it', mode: 'write' });
      expect(res.status, res.text).toBe(201);
      const token = res.body.accessToken as string;
      expect((await req('POST', '/v1/boards', token, { name: 'Before' })).status).toBe(201);
      await setPolicy(f, 'off');
      expectProblem(await req('GET', '/v1/boards', token), 401, 'UNAUTHENTICATED');
      expectProblem(await req('POST', '/v1/boards', token, { name: 'After' }), 401, 'UNAUTHENTICATED');
      const glass = (...args: string[]) => operatorCommand.run(['break-glass', ...args], cli);
      expect(await glass(f.companyId, op.email, '--reason', 'Incident 9: still needed')).toBe(0);
      expect((await req('GET', '/v1/boards', out.at(-1)!)).status).toBe(200);
    });

    it('an approved request is not redeemed once the company turned access off', async () => {
      const e = await createCompanySession(t, 'Access Turned Off');
      await setPolicy(e, 'approval');
      const res = await switchIn(e, { reason: 'Ticket 21: approved then off' });
      await req('POST', `/v1/operator-access-requests/${res.body.id}/approve`, e.admin.accessToken, {});
      await setPolicy(e, 'off');
      expectProblem(await tokenOf(e, res.body.id as string), 403, 'FORBIDDEN');
    });
  });
});
