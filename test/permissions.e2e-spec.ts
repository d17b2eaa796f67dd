import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Response } from 'supertest';
import type { AbilityRule } from '../src/authz/authorize.decorator.js';
import { isItemRoute } from '../src/authz/access-policy.js';
import {
  catalogue,
  permissionForRule,
  rolePermissions,
  type PermissionSpec,
} from '../src/authz/permissions.js';
import { ROLES, type Role } from '../src/authz/roles.js';
import { newId } from '../src/common/ids.js';
import { ACCESS_CACHE_TTL_MS } from '../src/members/access.cache.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { call } from './harness/http.js';
import { expectProblem } from './harness/problem.js';
import { collectRoutes, fillPath, type RouteInfo } from './harness/routes.js';
import { client, publishDraft } from './harness/runs.js';
import {
  addMember,
  applicationToken,
  createCompanySession,
  login,
  type Actor,
  type CompanySession,
} from './harness/session.js';

/** Routes the "holder passes" half of the matrix does not call, with the reason (the denial half still does). */
const HOLDER_SKIP: Record<string, string> = {
  'DELETE /v1/companies/{companyId}':
    'would schedule the deletion of the company under test (companies suite)',
  'POST /v1/auth/logout': 'would end the session under test (identity suite)',
};

/** Whether any permission grants `action` on `subject` to someone (conditions included: "your own"). */
function grantsAny(p: PermissionSpec, action: string, subject: string): boolean {
  return p.rules.some((r) => r.subject === subject && (r.actions as readonly string[]).includes(action));
}

interface MatrixRoute {
  route: RouteInfo;
  rule: AbilityRule;
  permission: string;
  item: boolean;
}

describe('permissions, groups and scoped credentials', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  /** A member-role user whose one group's permissions the matrix sets per route. */
  let grouped: Actor;
  let matrixGroup: string;

  const as = (actor: Actor | string) => {
    const token = typeof actor === 'string' ? actor : actor.accessToken;
    return client(t, { accessToken: token } as Actor);
  };

  async function apiKey(token: string, body: Record<string, unknown>): Promise<string> {
    const res = await as(token).post('/v1/api-keys', { name: `perm ${newId()}`, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.key as string;
  }

  async function deniedEvents(requestId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await t.owner.query<{ metadata: Record<string, unknown> }>(
      "select metadata from audit_events where request_id = $1 and action = 'authorization.denied' and metadata->>'reason' is null",
      [requestId],
    );
    return rows.map((r) => r.metadata);
  }

  async function send(m: MatrixRoute, token: string): Promise<{ res: Response; requestId: string }> {
    const requestId = newId();
    const path = fillPath(m.route.path, { companyId: a.companyId });
    const res = await call(t, m.route.method, path, {
      token,
      requestId,
      ...(['POST', 'PATCH', 'PUT'].includes(m.route.method) ? { body: {} } : {}),
    });
    return { res, requestId };
  }

  function pathFor(route: RouteInfo): string {
    return route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
      name === 'companyId' ? '{companyId}' : newId(),
    );
  }

  async function expectPasses(m: MatrixRoute, token: string, who: string): Promise<void> {
    const { res, requestId } = await send(m, token);
    const what = `${m.route.method} ${m.route.path} (${m.permission}) by ${who}: ${res.status} ${res.text}`;
    expect(res.status === 403 && /permission|not available/.test(String(res.body?.detail)), what).toBe(false);
    expect(await deniedEvents(requestId), what).toEqual([]);
  }

  async function expectDenied(m: MatrixRoute, token: string, who: string): Promise<void> {
    const { res, requestId } = await send(m, token);
    const what = `${m.route.method} ${m.route.path} (${m.permission}) by ${who}: ${res.status} ${res.text}`;
    if (m.item) {
      expect(res.status, what).toBe(404);
      const events = await deniedEvents(requestId);
      expect(events, what).toHaveLength(1);
      expect(events[0], what).toMatchObject({ permission: m.permission, action: m.rule.action });
    } else {
      expect(res.status, what).toBe(403);
      expect(res.body.code, what).toBe('FORBIDDEN');
    }
  }

  let matrix: MatrixRoute[];

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([createCompanySession(t, 'Perm A'), createCompanySession(t, 'Perm B')]);
    const { userId, email } = await addMember(t, a.companyId, 'member');
    grouped = { userId, email, role: 'member', ...(await login(t, email, a.slug)) };
    const group = await as(a.owner).post('/v1/groups', { key: 'matrix', name: 'Matrix', permissions: [] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    matrixGroup = group.body.id as string;
    expect((await as(a.owner).put(`/v1/groups/${matrixGroup}/members/${grouped.userId}`)).status).toBe(200);

    matrix = collectRoutes(t.app)
      .filter((r) => r.auth?.kind === 'ability' && !r.path.startsWith('/mcp'))
      .map((route) => {
        const rule = route.auth as AbilityRule;
        const permission = permissionForRule(rule.action, rule.subject)!;
        return {
          route: { ...route, path: pathFor(route) },
          rule,
          permission,
          item: isItemRoute(route.path.replace(/\{(\w+)\}/g, ':$1')),
        };
      });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('the catalogue', () => {
    it('GET /v1/permissions serves every permission with its description and least role (member and up)', async () => {
      const res = await as(a.member).get('/v1/permissions');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const byName = new Map((res.body.data as { name: string; role: Role }[]).map((p) => [p.name, p]));
      expect(byName.get('runs:verdict')).toMatchObject({ role: 'manager', ownerOnly: false });
      expect(byName.get('connectors:write')).toMatchObject({ role: 'admin' });
      expect(byName.get('runs:read')).toMatchObject({ role: 'member' });
      for (const p of ['ownership:transfer', 'company:delete', 'applications:write']) {
        expect(byName.get(p), p).toMatchObject({ role: 'owner', ownerOnly: true });
      }
      for (const p of res.body.data as { name: string; description: string }[]) {
        expect(p.name).toMatch(/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/);
        expect(p.description.length).toBeGreaterThan(0);
      }
    });

    it('every route declares exactly one permission of the catalogue, and every permission guards a route', () => {
      const names = new Set(catalogue().all.map((p) => p.name));
      const used = new Set<string>();
      for (const route of collectRoutes(t.app)) {
        if (route.auth?.kind !== 'ability') continue;
        const permission = permissionForRule(route.auth.action, route.auth.subject);
        expect(permission, `${route.method} ${route.path}`).toBeDefined();
        expect(names.has(permission!)).toBe(true);
        used.add(permission!);
        if (route.auth.variant) {
          used.add(permissionForRule(route.auth.variant.action, route.auth.variant.subject)!);
        }
      }
      // Permissions with only conditional rules ("your own") act through a route of another permission.
      const conditionalOnly = catalogue()
        .all.filter((p) => p.rules.every((r) => r.own))
        .map((p) => p.name);
      expect([...names].filter((n) => !used.has(n) && !conditionalOnly.includes(n))).toEqual([]);
    });

    it('the roles are nested named sets: each holds the one below it, and owner-only ones stay with the owner', () => {
      for (let i = 0; i + 1 < ROLES.length; i++) {
        const stronger = rolePermissions(ROLES[i]);
        for (const p of rolePermissions(ROLES[i + 1]))
          expect(stronger, `${ROLES[i]} ⊇ ${ROLES[i + 1]}`).toContain(p);
      }
      expect(rolePermissions('admin')).not.toContain('applications:write');
      expect(rolePermissions('owner')).toContain('applications:write');
    });

    it('GET /v1/me lists the effective permissions: the role’s, plus the groups’', async () => {
      const me = await as(a.member).get('/v1/me');
      expect(me.status).toBe(200);
      expect([...(me.body.permissions as string[])].sort()).toEqual([...rolePermissions('member')].sort());
      expect(me.body.permissions).not.toContain('runs:verdict');
      const g = await as(a.admin).post('/v1/groups', {
        key: 'me-verdicts',
        name: 'Verdicts',
        permissions: ['runs:verdict'],
      });
      expect(g.status).toBe(201);
      const { userId, email } = await addMember(t, a.companyId, 'member');
      const m = { ...(await login(t, email, a.slug)) };
      expect((await as(a.admin).put(`/v1/groups/${g.body.id as string}/members/${userId}`)).status).toBe(200);
      const after = await as(m.accessToken).get('/v1/me');
      expect(after.body.permissions).toContain('runs:verdict');
      expect(after.body.groups).toEqual(['me-verdicts']);
      // Removed from the group: at once on this instance.
      expect((await as(a.admin).delete(`/v1/groups/${g.body.id as string}/members/${userId}`)).status).toBe(
        204,
      );
      expect((await as(m.accessToken).get('/v1/me')).body.permissions).not.toContain('runs:verdict');
    });

    it('another instance sees a group change within the access cache’s lifetime', async () => {
      const t2 = await startTestApp();
      try {
        const g = await as(a.admin).post('/v1/groups', {
          key: 'far-verdicts',
          name: 'Verdicts elsewhere',
          permissions: ['runs:verdict'],
        });
        expect(g.status).toBe(201);
        const { userId, email } = await addMember(t, a.companyId, 'member');
        const m = await login(t, email, a.slug);
        const permissionsOn2 = async () =>
          (await client(t2, { accessToken: m.accessToken } as Actor).get('/v1/me')).body
            .permissions as string[];
        // The second instance has the member's groups cached (none) before the change.
        expect(await permissionsOn2()).not.toContain('runs:verdict');
        /** Polls the second instance until `holds` is what it sees; at most the cache's lifetime and a margin. */
        const seenOn2 = async (holds: boolean) => {
          const deadline = Date.now() + ACCESS_CACHE_TTL_MS + 3_000;
          for (;;) {
            if ((await permissionsOn2()).includes('runs:verdict') === holds) return true;
            if (Date.now() > deadline) return false;
            await new Promise((r) => setTimeout(r, 200));
          }
        };
        expect((await as(a.admin).put(`/v1/groups/${g.body.id as string}/members/${userId}`)).status).toBe(
          200,
        );
        expect(await seenOn2(true)).toBe(true);
        expect((await as(a.admin).delete(`/v1/groups/${g.body.id as string}/members/${userId}`)).status).toBe(
          204,
        );
        expect(await seenOn2(false)).toBe(true);
      } finally {
        await t2.close();
      }
    });
  });

  describe('role × permission matrix (generated from the route table and the catalogue)', () => {
    it('a holder through its role passes the guard; the strongest role lacking it is denied (404 item, 403 collection)', async () => {
      const { all } = catalogue();
      for (const m of matrix) {
        const spec = all.find((p) => p.name === m.permission)!;
        if (!HOLDER_SKIP[`${m.route.method} ${collectKey(m)}`]) {
          await expectPasses(m, a.as(spec.role).accessToken, spec.role);
        }
        // The strongest role below that holds nothing granting the rule (not even "your own").
        const below = ROLES.slice(ROLES.indexOf(spec.role) + 1).find(
          (role) =>
            !rolePermissions(role).some((p) =>
              grantsAny(
                all.find((s) => s.name === p)!,
                m.rule.action,
                m.rule.subject,
              ),
            ),
        );
        if (below) await expectDenied(m, a.as(below).accessToken, below);
      }
    });

    it('a member holding the permission through a group passes the guard (every grantable permission)', async () => {
      for (const m of matrix) {
        const spec = catalogue().all.find((p) => p.name === m.permission)!;
        if (spec.role === 'member' || spec.ownerOnly) continue;
        if (HOLDER_SKIP[`${m.route.method} ${collectKey(m)}`]) continue;
        const set = await as(a.owner).patch(`/v1/groups/${matrixGroup}`, { permissions: [m.permission] });
        expect(set.status, JSON.stringify(set.body)).toBe(200);
        await expectPasses(m, grouped.accessToken, `a member in a group with ${m.permission}`);
      }
      await as(a.owner).patch(`/v1/groups/${matrixGroup}`, { permissions: [] });
    });

    it('a key scoped to the permission passes; a key scoped to everything else is denied', async () => {
      const { all } = catalogue();
      const ownerHeld = rolePermissions('owner');
      const keys = new Map<string, string>();
      for (const m of matrix) {
        const rule = m.rule;
        if (rule.principals && !rule.principals.includes('api_key')) continue;
        if (!keys.has(m.permission)) {
          keys.set(
            m.permission,
            await apiKey(a.owner.accessToken, { role: 'owner', permissions: [m.permission] }),
          );
        }
        if (!HOLDER_SKIP[`${m.route.method} ${collectKey(m)}`]) {
          await expectPasses(m, keys.get(m.permission)!, `a key scoped to ${m.permission}`);
        }
        const rest = ownerHeld.filter(
          (p) =>
            !grantsAny(
              all.find((s) => s.name === p)!,
              rule.action,
              rule.subject,
            ),
        );
        const lacking = await apiKey(a.owner.accessToken, { role: 'owner', permissions: rest });
        await expectDenied(m, lacking, 'a key scoped to every other permission');
      }
    });
  });

  describe('groups', () => {
    it('refuses a duplicate key (409), an unknown or owner-only permission (400), what the caller lacks (403)', async () => {
      const create = (actor: Actor | string, body: Record<string, unknown>) =>
        as(actor).post('/v1/groups', body);
      expect((await create(a.admin, { key: 'dup', name: 'Dup', permissions: [] })).status).toBe(201);
      expectProblem(await create(a.admin, { key: 'dup', name: 'Dup 2', permissions: [] }), 409, 'CONFLICT');
      // The same key in another company is fine.
      expect((await create(b.admin, { key: 'dup', name: 'Dup', permissions: [] })).status).toBe(201);
      expectProblem(
        await create(a.admin, { key: 'bad-perm', name: 'x', permissions: ['runs:fly'] }),
        400,
        'VALIDATION_FAILED',
      );
      for (const p of ['ownership:transfer', 'company:delete', 'applications:write']) {
        expectProblem(
          await create(a.owner, { key: `oo-${p.split(':')[0]}`, name: 'x', permissions: [p] }),
          400,
          'VALIDATION_FAILED',
        );
      }
      // A manager holding groups:write through a group may not grant connectors:write, which they lack.
      const admins = await create(a.owner, { key: 'group-admins', name: 'x', permissions: ['groups:write'] });
      expect(
        (await as(a.owner).put(`/v1/groups/${admins.body.id as string}/members/${a.manager.userId}`)).status,
      ).toBe(200);
      expectProblem(
        await create(a.manager, { key: 'sneaky', name: 'x', permissions: ['connectors:write'] }),
        403,
        'FORBIDDEN',
      );
      const own = await create(a.manager, { key: 'mgr-verdicts', name: 'x', permissions: ['runs:verdict'] });
      expect(own.status, JSON.stringify(own.body)).toBe(201);
      // …nor add a member to a group holding a permission they lack.
      const conn = await create(a.owner, {
        key: 'connector-admins',
        name: 'x',
        permissions: ['connectors:write'],
      });
      expectProblem(
        await as(a.manager).put(`/v1/groups/${conn.body.id as string}/members/${a.member.userId}`),
        403,
        'FORBIDDEN',
      );
      // A member cannot write groups at all (403 on the collection), but reads them.
      expectProblem(await create(a.member, { key: 'm', name: 'm', permissions: [] }), 403, 'FORBIDDEN');
      expect((await as(a.member).get('/v1/groups')).status).toBe(200);
      await as(a.owner).delete(`/v1/groups/${admins.body.id as string}`);
    });

    it('the database refuses an owner-only permission in a group, even inserted through the app role', async () => {
      const conn = await t.appRole.connect();
      try {
        await conn.query('begin');
        await conn.query(`select set_config('app.company_id', $1, true)`, [a.companyId]);
        const err = await conn
          .query(
            `insert into groups (id, company_id, key, name, permissions, created_by)
             values ($1, $2, 'direct', 'Direct', array['runs:read', 'ownership:transfer'], 'x')`,
            [newId(), a.companyId],
          )
          .then(() => null)
          .catch((e: { code?: string; constraint?: string }) => e);
        expect(err?.code).toBe('23514');
        expect(err?.constraint).toBe('groups_no_owner_only_permissions');
      } finally {
        await conn.query('rollback');
        conn.release();
      }
      const err = await t.owner
        .query(`update groups set permissions = array['company:delete'] where company_id = $1`, [a.companyId])
        .catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).toBe('23514');
    });

    it('removing a member from the company removes their group memberships', async () => {
      const { userId, email } = await addMember(t, a.companyId, 'member');
      await login(t, email, a.slug);
      const g = await as(a.admin).post('/v1/groups', {
        key: 'leavers',
        name: 'x',
        permissions: ['runs:cancel'],
      });
      expect((await as(a.admin).put(`/v1/groups/${g.body.id as string}/members/${userId}`)).status).toBe(200);
      expect((await as(a.admin).get(`/v1/groups/${g.body.id as string}/members`)).body.data).toHaveLength(1);
      const removed = await as(a.owner).delete(`/v1/companies/${a.companyId}/members/${userId}`);
      expect(removed.status, JSON.stringify(removed.body)).toBe(204);
      expect((await as(a.admin).get(`/v1/groups/${g.body.id as string}/members`)).body.data).toHaveLength(0);
      // A non-member cannot be added (404, like a missing one).
      expectProblem(
        await as(a.admin).put(`/v1/groups/${g.body.id as string}/members/${userId}`),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await as(a.admin).put(`/v1/groups/${g.body.id as string}/members/${b.member.userId}`),
        404,
        'NOT_FOUND',
      );
    });
  });

  describe('approver groups', () => {
    async function parkedRun(starter: Actor, approverGroup: string): Promise<string> {
      const version = await publishDraft(t, a.manager, {
        steps: [
          { id: 'ok', kind: 'approval', name: 'Approve', minRole: 'admin', approverGroup, prompt: 'Pay?' },
        ],
      });
      const run = await as(starter).post('/v1/runs', { draftVersionId: version, input: {} });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
      // No worker runs in this file: the run is parked as the worker would park it.
      await t.owner.query(
        `update runs set status = 'parked', parked_step_id = 'ok', parked_min_role = 'admin', parked_prompt = 'Pay?',
                parked_since = now() where id = $1`,
        [run.body.id],
      );
      return run.body.id as string;
    }

    it('a verdict needs the step’s role or membership in its approverGroup; four-eyes still applies', async () => {
      const finance = await as(a.admin).post('/v1/groups', {
        key: 'finance-approvers',
        name: 'Finance',
        permissions: ['runs:verdict'],
      });
      const others = await as(a.admin).post('/v1/groups', {
        key: 'others',
        name: 'x',
        permissions: ['runs:verdict'],
      });
      const people = await Promise.all(
        [0, 1, 2].map(async () => {
          const { userId, email } = await addMember(t, a.companyId, 'member');
          return { userId, email, role: 'member' as Role, ...(await login(t, email, a.slug)) };
        }),
      );
      const [approver, starterInGroup, outsider] = people;
      for (const p of [approver, starterInGroup]) {
        await as(a.admin).put(`/v1/groups/${finance.body.id as string}/members/${p.userId}`);
      }
      await as(a.admin).put(`/v1/groups/${others.body.id as string}/members/${outsider.userId}`);

      const id = await parkedRun(a.member, 'finance-approvers');
      const run = await as(a.member).get(`/v1/runs/${id}`);
      expect(run.body.steps[0]).toMatchObject({ minRole: 'admin', approverGroup: 'finance-approvers' });
      // A manager is below the step's role and not in the group: denied like a missing run.
      expectProblem(
        await as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        404,
        'NOT_FOUND',
      );
      // Holding runs:verdict through another group is not enough.
      expectProblem(
        await as(outsider).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        404,
        'NOT_FOUND',
      );
      const ok = await as(approver).post(`/v1/runs/${id}/verdict`, { decision: 'approve', comment: 'fine' });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);

      // Four-eyes: a group member who started the run cannot approve it.
      const own = await parkedRun(starterInGroup, 'finance-approvers');
      expectProblem(
        await as(starterInGroup).post(`/v1/runs/${own}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );
      // The admin (the step's role) may.
      expect((await as(a.admin).post(`/v1/runs/${own}/verdict`, { decision: 'approve' })).status).toBe(200);
    });

    it('refuses an approverGroup that is not a group key (400)', async () => {
      const res = await as(a.manager).post('/v1/drafts', {
        name: 'Bad approver group',
        description: 'x',
        category: 'finance',
        inputSchema: { type: 'object', properties: {} },
        steps: [
          {
            id: 'ok',
            kind: 'approval',
            name: 'A',
            minRole: 'manager',
            approverGroup: 'Not A Key!',
            prompt: '?',
          },
        ],
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('scoped machine credentials', () => {
    it('refuses at creation a permission the creator lacks (403) or that does not exist (400)', async () => {
      expectProblem(
        await as(a.admin).post('/v1/api-keys', {
          name: 'k',
          role: 'admin',
          permissions: ['applications:write'],
        }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await as(a.admin).post('/v1/api-keys', { name: 'k', role: 'admin', permissions: ['runs:fly'] }),
        400,
        'VALIDATION_FAILED',
      );
      // Held by the creator, but never usable by the key's role (its scope is ∩ the role): refused, not a dead key.
      const beyond = await as(a.admin).post('/v1/api-keys', {
        name: 'k',
        role: 'member',
        permissions: ['connectors:write'],
      });
      expectProblem(beyond, 400, 'VALIDATION_FAILED');
      expect(beyond.body.detail).toMatch(/role member can never use: connectors:write/);
      const created = await as(a.admin).post('/v1/api-keys', {
        name: 'k',
        role: 'member',
        permissions: ['runs:read'],
      });
      expect(created.status).toBe(201);
      expect(created.body.permissions).toEqual(['runs:read']);
      // A rotation keeps the scope.
      const rotated = await as(a.admin).post(`/v1/api-keys/${created.body.id as string}/rotate`, {});
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
      expect(rotated.body.permissions).toEqual(['runs:read']);
      expect((await as(rotated.body.key as string).get('/v1/runs')).status).toBe(200);
      expectProblem(await as(rotated.body.key as string).get('/v1/connectors'), 403, 'FORBIDDEN');
    });

    it('a key acts with its list ∩ its creator’s current permissions ∩ its role’s, at every request', async () => {
      const { userId, email } = await addMember(t, a.companyId, 'admin');
      const creator = { ...(await login(t, email, a.slug)) };
      const key = await apiKey(creator.accessToken, {
        role: 'admin',
        permissions: ['connectors:read', 'connectors:write', 'runs:read', 'sessions:manage'],
      });
      expect((await as(key).get('/v1/runs')).status).toBe(200);
      expect((await as(key).get('/v1/connectors')).status).toBe(200);
      // Not in the list: denied although the role holds it.
      expectProblem(await as(key).get('/v1/audit-events'), 403, 'FORBIDDEN');
      const me = await as(key).get('/v1/me');
      expect([...(me.body.permissions as string[])].sort()).toEqual([
        'connectors:read',
        'connectors:write',
        'runs:read',
        'sessions:manage',
      ]);
      // The creator demoted to manager: connectors:write is no longer theirs, so not the key's either.
      expect(
        (await as(a.owner).patch(`/v1/companies/${a.companyId}/members/${userId}`, { role: 'manager' }))
          .status,
      ).toBe(200);
      expectProblem(
        await as(key).post('/v1/connectors', {
          toolId: 'x.y',
          endpointUrl: 'https://example.test/',
          authScheme: 'none',
        }),
        403,
        'FORBIDDEN',
      );
      expect((await as(key).get('/v1/runs')).status).toBe(200);
    });

    it('an application created with permissions acts with them only', async () => {
      const created = await as(a.owner).post('/v1/applications', {
        name: 'scoped',
        role: 'admin',
        permissions: ['runs:read'],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.permissions).toEqual(['runs:read']);
      const access = await applicationToken(t, created.body as { clientId: string; clientSecret: string });
      expect((await as(access).get('/v1/runs')).status).toBe(200);
      expectProblem(await as(access).get('/v1/connectors'), 403, 'FORBIDDEN');
    });
  });
});

/** A matrix route's key with its ids put back as placeholders (`/v1/runs/{id}`), for the skip table. */
function collectKey(m: MatrixRoute): string {
  return m.route.path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
}
