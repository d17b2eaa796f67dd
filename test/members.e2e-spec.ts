import { decodeJwt } from 'jose';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/authz/roles.js';
import { SESSION } from '../src/tenancy/tenant.entity.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import {
  addMember,
  createCompanySession,
  login,
  registerCompany,
  type CompanySession,
} from './harness/session.js';

const MISSING = '01900000-0000-7000-8000-000000000000';

describe('members', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;

  const patch = (s: CompanySession, token: string, userId: string, body: Record<string, unknown>) =>
    t
      .http()
      .patch(`/v1/companies/${s.companyId}/members/${userId}`)
      .auth(token, { type: 'bearer' })
      .send(body);
  const remove = (s: CompanySession, token: string, userId: string) =>
    t.http().delete(`/v1/companies/${s.companyId}/members/${userId}`).auth(token, { type: 'bearer' });
  const roleOf = async (companyId: string, userId: string) =>
    (
      await t.owner.query<{ role: Role }>(
        'select role from memberships where company_id = $1 and user_id = $2',
        [companyId, userId],
      )
    ).rows[0]?.role;
  const owners = async (companyId: string) =>
    (
      await t.owner.query<{ n: number }>(
        "select count(*)::int as n from memberships where company_id = $1 and role = 'owner'",
        [companyId],
      )
    ).rows[0].n;

  /** A member of `s` with a role, signed in. */
  async function extra(s: CompanySession, role: Role) {
    const { userId, email } = await addMember(t, s.companyId, role);
    return { userId, email, ...(await login(t, email, s.slug)) };
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Members A');
    b = await createCompanySession(t, 'Members B');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists members for every role, newest first and keyset-paginated, without secrets', async () => {
    for (const role of ['owner', 'admin', 'manager', 'member'] as const) {
      const res = await t
        .http()
        .get(`/v1/companies/${a.companyId}/members`)
        .auth(a.as(role).accessToken, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeGreaterThanOrEqual(4);
    }
    const c = await createCompanySession(t, 'Members List');
    const first = await t
      .http()
      .get(`/v1/companies/${c.companyId}/members?limit=3`)
      .auth(c.member.accessToken, { type: 'bearer' });
    expect(first.body.data).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t
      .http()
      .get(`/v1/companies/${c.companyId}/members?limit=3&cursor=${first.body.nextCursor}`)
      .auth(c.member.accessToken, { type: 'bearer' });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const all = [...first.body.data, ...second.body.data] as Record<string, unknown>[];
    expect(all.map((m) => m.userId).sort()).toEqual(
      [c.owner.userId, c.admin.userId, c.manager.userId, c.member.userId].sort(),
    );
    expect(all.find((m) => m.userId === c.owner.userId)).toEqual({
      userId: c.owner.userId,
      email: c.owner.email,
      name: 'Owner',
      role: 'owner',
      joinedAt: expect.any(String),
    });
    expect(JSON.stringify(all)).not.toMatch(/password|argon/i);
  });

  it('changes roles: never above your own, never on a member above you, managers and members not at all', async () => {
    const m = await extra(a, 'member');
    const ok = await patch(a, a.admin.accessToken, m.userId, { role: 'admin' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ userId: m.userId, email: m.email, role: 'admin' });
    // The new role applies at the next refresh.
    const refreshed = await t.http().post('/v1/auth/refresh').send({ refreshToken: m.refreshToken });
    expect(decodeJwt(refreshed.body.accessToken as string)).toMatchObject({ role: 'admin' });

    const above = await patch(a, a.admin.accessToken, m.userId, { role: 'owner' });
    expectProblem(above, 403, 'FORBIDDEN');
    expect(above.body.detail).toMatch(/above your own/);

    const missing = await patch(a, a.admin.accessToken, MISSING, { role: 'member' });
    expectProblem(missing, 404, 'NOT_FOUND');
    const onOwner = await patch(a, a.admin.accessToken, a.owner.userId, { role: 'member' });
    expect(withoutRequestId(onOwner.body)).toEqual(withoutRequestId(missing.body));
    for (const role of ['manager', 'member'] as const) {
      const res = await patch(a, a.as(role).accessToken, m.userId, { role: 'member' });
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    }
    expect(await roleOf(a.companyId, a.owner.userId)).toBe('owner');
    expect(await roleOf(a.companyId, m.userId)).toBe('admin');
    const denied = await t.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2",
      [a.companyId, a.owner.userId],
    );
    expect(denied.rows.length).toBeGreaterThanOrEqual(1);

    expectProblem(await patch(a, a.admin.accessToken, m.userId, { role: 'root' }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch(a, a.admin.accessToken, m.userId, {}), 400, 'VALIDATION_FAILED');
    expectProblem(
      await patch(a, a.admin.accessToken, m.userId, { role: 'member', companyId: b.companyId }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await patch(a, a.admin.accessToken, 'not-a-uuid', { role: 'member' }),
      400,
      'VALIDATION_FAILED',
    );

    // An owner may make another owner; the same role again changes (and audits) nothing.
    expect((await patch(a, a.owner.accessToken, m.userId, { role: 'owner' })).status).toBe(200);
    const events = async () =>
      (
        await t.owner.query(
          "select count(*)::int as n from audit_events where company_id = $1 and action = 'member.role_changed' and target_id = $2",
          [a.companyId, m.userId],
        )
      ).rows[0].n as number;
    const before = await events();
    expect((await patch(a, a.owner.accessToken, m.userId, { role: 'owner' })).status).toBe(200);
    expect(await events()).toBe(before);
    expect((await patch(a, a.owner.accessToken, m.userId, { role: 'member' })).status).toBe(200);
  });

  it('takes a demotion into account at once for administrative changes, whatever the token says', async () => {
    const demoted = await extra(a, 'admin');
    const target = await extra(a, 'member');
    expect((await patch(a, a.owner.accessToken, demoted.userId, { role: 'member' })).status).toBe(200);
    // `demoted.accessToken` still says admin: the guard acts on the current role (member), which may not.
    const res = await patch(a, demoted.accessToken, target.userId, { role: 'manager' });
    expectProblem(res, 404, 'NOT_FOUND');
    expect(await roleOf(a.companyId, target.userId)).toBe('member');
  });

  it("refuses a removed member's still-valid access token at once (401), on every route", async () => {
    const gone = await extra(a, 'admin');
    const routes = () => [
      t.http().get('/v1/me'),
      t.http().get(`/v1/companies/${a.companyId}`),
      t.http().get(`/v1/companies/${a.companyId}/members`),
      t.http().get('/v1/api-keys'),
      t.http().post('/v1/auth/switch-company').send({ companyId: b.companyId }),
    ];
    for (const res of await Promise.all(routes().map((r) => r.auth(gone.accessToken, { type: 'bearer' })))) {
      expect(res.status).not.toBe(401);
    }
    expect((await remove(a, a.owner.accessToken, gone.userId)).status).toBe(204);
    // The token itself is still valid (signed, unexpired): the membership it names is what ended.
    expect(decodeJwt(gone.accessToken).exp! * 1000).toBeGreaterThan(Date.now());
    for (const res of await Promise.all(routes().map((r) => r.auth(gone.accessToken, { type: 'bearer' })))) {
      expectProblem(res, 401, 'UNAUTHENTICATED');
    }
  });

  it("acts on a demoted member's current role at once: an old admin token can no longer create API keys (403)", async () => {
    const demoted = await extra(a, 'admin');
    const createKey = () =>
      t
        .http()
        .post('/v1/api-keys')
        .auth(demoted.accessToken, { type: 'bearer' })
        .send({ name: 'after demotion', role: 'member' });
    expect((await createKey()).status).toBe(201);
    expect((await patch(a, a.owner.accessToken, demoted.userId, { role: 'member' })).status).toBe(200);
    expect(decodeJwt(demoted.accessToken).role).toBe('admin');
    const refused = await createKey();
    expectProblem(refused, 403, 'FORBIDDEN');
    expect(refused.body.detail).toMatch(/member/);
    const me = await t.http().get('/v1/me').auth(demoted.accessToken, { type: 'bearer' });
    expect(me.body.role).toBe('member');
    const keys = await t.owner.query<{ n: number }>(
      "select count(*)::int as n from api_keys where company_id = $1 and created_by = $2 and name = 'after demotion'",
      [a.companyId, demoted.userId],
    );
    expect(keys.rows[0].n).toBe(1);
    // A promotion does not lift a token above the role it was issued with.
    expect((await patch(a, a.owner.accessToken, demoted.userId, { role: 'owner' })).status).toBe(200);
    expect((await t.http().get('/v1/me').auth(demoted.accessToken, { type: 'bearer' })).body.role).toBe(
      'admin',
    );
  });

  it('transfers ownership and the previous owner acts as admin at once, whatever their token says', async () => {
    const c = await createCompanySession(t, 'Members Transfer Cache');
    const before = await t.http().get('/v1/me').auth(c.owner.accessToken, { type: 'bearer' });
    expect(before.body.role).toBe('owner');
    const res = await t
      .http()
      .post(`/v1/companies/${c.companyId}/ownership-transfer`)
      .auth(c.owner.accessToken, { type: 'bearer' })
      .send({ userId: c.admin.userId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await t.http().get('/v1/me').auth(c.owner.accessToken, { type: 'bearer' });
    expect(after.body.role).toBe('admin');
    expectProblem(
      await t.http().delete(`/v1/companies/${c.companyId}`).auth(c.owner.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
  });

  it('removes members: admins remove up to their role, anyone may leave, and the removed lose their sessions', async () => {
    const x = await extra(a, 'manager');
    const removed = await remove(a, a.admin.accessToken, x.userId);
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    expect(await roleOf(a.companyId, x.userId)).toBeUndefined();
    expectProblem(
      await t.http().post('/v1/auth/refresh').send({ refreshToken: x.refreshToken }),
      401,
      'UNAUTHENTICATED',
    );
    expectProblem(await remove(a, a.admin.accessToken, x.userId), 404, 'NOT_FOUND');
    const audit = await t.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'member.removed' and target_id = $2",
      [a.companyId, x.userId],
    );
    expect(audit.rows).toEqual([{ metadata: { role: 'manager', self: false, revokedSessions: 1 } }]);

    // A removed admin's access token (still unexpired) is refused by administrative routes at once.
    const formerAdmin = await extra(a, 'admin');
    expect((await remove(a, a.owner.accessToken, formerAdmin.userId)).status).toBe(204);
    expectProblem(
      await t
        .http()
        .post(`/v1/companies/${a.companyId}/invitations`)
        .auth(formerAdmin.accessToken, { type: 'bearer' })
        .send({ email: 'someone@example.test', role: 'member' }),
      401,
      'UNAUTHENTICATED',
    );

    // Admins cannot remove an owner; members cannot remove others (both 404, like a missing member).
    const missing = await remove(a, a.admin.accessToken, MISSING);
    const y = await extra(a, 'member');
    for (const [token, userId] of [
      [a.admin.accessToken, a.owner.userId],
      [a.member.accessToken, y.userId],
      [a.manager.accessToken, y.userId],
    ] as const) {
      const res = await remove(a, token, userId);
      expectProblem(res, 404, 'NOT_FOUND');
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    }
    expect(await roleOf(a.companyId, a.owner.userId)).toBe('owner');
    expect(await roleOf(a.companyId, y.userId)).toBe('member');

    // Leaving: a member removes themselves.
    expect((await remove(a, y.accessToken, y.userId)).status).toBe(204);
    expect(await roleOf(a.companyId, y.userId)).toBeUndefined();
    expectProblem(
      await t.http().post('/v1/auth/refresh').send({ refreshToken: y.refreshToken }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('never removes or demotes the last owner, not even the owner themselves', async () => {
    const c = await createCompanySession(t, 'Members Last Owner');
    const leave = await remove(c, c.owner.accessToken, c.owner.userId);
    expectProblem(leave, 409, 'CONFLICT');
    expect(leave.body.detail).toMatch(/last owner/);
    const demote = await patch(c, c.owner.accessToken, c.owner.userId, { role: 'admin' });
    expectProblem(demote, 409, 'CONFLICT');
    expect(await owners(c.companyId)).toBe(1);
    // With a second owner, an owner may step down.
    const second = await extra(c, 'owner');
    expect((await patch(c, second.accessToken, c.owner.userId, { role: 'admin' })).status).toBe(200);
    expectProblem(await remove(c, second.accessToken, second.userId), 409, 'CONFLICT');
    expect(await owners(c.companyId)).toBe(1);
  });

  it('enforces the last owner in the database: of two concurrent demotions, the second to commit fails', async () => {
    const c = await createCompanySession(t, 'Members Race Tx');
    const second = await extra(c, 'owner');
    const tx1 = await t.appRole.connect();
    const tx2 = await t.appRole.connect();
    try {
      for (const [client, userId] of [
        [tx1, c.owner.userId],
        [tx2, second.userId],
      ] as const) {
        await client.query('begin');
        await client.query(`select set_config('${SESSION.company}', $1, true)`, [c.companyId]);
        await client.query("update memberships set role = 'admin' where company_id = $1 and user_id = $2", [
          c.companyId,
          userId,
        ]);
      }
      // Both statements succeeded: the rule is checked at commit, serialised on the company row.
      await tx1.query('commit');
      const failure = await tx2.query('commit').then(
        () => undefined,
        (e: unknown) => e as pg.DatabaseError,
      );
      expect(failure?.code).toBe('TY409');
      expect(failure?.message).toMatch(/at least one owner/);
    } finally {
      tx1.release();
      tx2.release();
    }
    expect(await owners(c.companyId)).toBe(1);

    // Deleting the only owner's membership directly, through the app's role, fails the same way.
    const client = await t.appRole.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('${SESSION.company}', $1, true)`, [c.companyId]);
      await client.query("delete from memberships where company_id = $1 and role = 'owner'", [c.companyId]);
      await expect(client.query('commit')).rejects.toMatchObject({ code: 'TY409' });
    } finally {
      client.release();
    }
    expect(await owners(c.companyId)).toBe(1);
  });

  it("answers 409 with the trigger's message when the database refuses a demotion at commit", async () => {
    const c = await createCompanySession(t, 'Members Race Commit');
    const second = await extra(c, 'owner');
    // A concurrent transaction demotes the first owner and checks its constraint now: it holds the company's
    // owner-check lock until it commits, so the HTTP demotion of the second owner passes the service's own
    // check (the first owner still looks like an owner to it) and then waits at commit for that lock.
    const tx = await t.appRole.connect();
    try {
      await tx.query('begin');
      await tx.query(`select set_config('${SESSION.company}', $1, true)`, [c.companyId]);
      await tx.query("update memberships set role = 'admin' where company_id = $1 and user_id = $2", [
        c.companyId,
        c.owner.userId,
      ]);
      await tx.query('set constraints all immediate');
      // `.then` sends the request now; it is awaited below, after the lock is released.
      const pending = patch(c, c.owner.accessToken, second.userId, { role: 'admin' }).then((r) => r);
      // Wait (no timing assumed) until the request's commit is blocked on this transaction.
      let waiting = 0;
      for (let i = 0; i < 400 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        waiting = (
          await t.owner.query<{ n: number }>(
            `select count(*)::int as n from pg_locks
              where not granted and locktype = 'advisory'
                and ((classid::bigint << 32) | objid::bigint) = hashtextextended('owners:' || $1, 0)`,
            [c.companyId],
          )
        ).rows[0].n;
      }
      expect(waiting).toBeGreaterThan(0);
      await tx.query('commit');
      const res = await pending;
      expectProblem(res, 409, 'CONFLICT');
      expect(res.body.detail).toMatch(/must keep at least one owner/);
    } finally {
      tx.release();
    }
    expect(await owners(c.companyId)).toBe(1);
    expect(await roleOf(c.companyId, second.userId)).toBe('owner');
  });

  it('keeps one owner when two owners demote each other over HTTP at the same time', async () => {
    for (let round = 0; round < 2; round++) {
      const c = await createCompanySession(t, `Members Race Http ${round}`);
      const second = await extra(c, 'owner');
      // Force the overlap: hold the company's owner-check lock (the one the last-owner trigger takes at commit)
      // so that neither demotion can commit before both have passed the service's own check. Without it, the
      // second request could start after the first committed and be refused by the service instead (its
      // caller is no longer an owner: 404), which says nothing about the database rule.
      const gate = await t.owner.connect();
      let results: Awaited<ReturnType<typeof patch>>[];
      try {
        await gate.query('begin');
        await gate.query("select pg_advisory_xact_lock(hashtextextended('owners:' || $1, 0))", [c.companyId]);
        // `.then` sends the requests now; they are awaited after the lock is released.
        const pending = [
          patch(c, c.owner.accessToken, second.userId, { role: 'admin' }).then((r) => r),
          patch(c, second.accessToken, c.owner.userId, { role: 'admin' }).then((r) => r),
        ];
        // Wait (no timing assumed) until one request waits at commit for the owner-check lock and the other,
        // past its own checks too, waits behind it (appends to one company's audit chain are serialised).
        let state = { atCommit: 0, behind: 0 };
        for (let i = 0; i < 400 && !(state.atCommit === 1 && state.behind === 1); i++) {
          await new Promise((r) => setTimeout(r, 25));
          state = (
            await t.owner.query<{ atCommit: number; behind: number }>(
              `with at_commit as (
                 select pid from pg_locks
                  where not granted and locktype = 'advisory'
                    and ((classid::bigint << 32) | objid::bigint) = hashtextextended('owners:' || $1, 0))
               select (select count(*)::int from at_commit) as "atCommit",
                      (select count(*)::int from pg_stat_activity a
                        where a.pid not in (select pid from at_commit)
                          and exists (select 1 from at_commit w where w.pid = any(pg_blocking_pids(a.pid)))) as behind`,
              [c.companyId],
            )
          ).rows[0];
        }
        expect(state).toEqual({ atCommit: 1, behind: 1 });
        await gate.query('commit');
        results = await Promise.all(pending);
      } finally {
        gate.release();
      }
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(results.map((r) => r.body))).toEqual([200, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expectProblem(loser, 409, 'CONFLICT');
      // The trigger's message, not the service's: the database refused the commit.
      expect(loser.body.detail).toMatch(/must keep at least one owner/);
      expect(await owners(c.companyId)).toBe(1);
    }
  });

  it('transfers ownership: the owner only, to another member, becoming admin', async () => {
    const c = await createCompanySession(t, 'Members Transfer');
    const transfer = (token: string, userId: string) =>
      t
        .http()
        .post(`/v1/companies/${c.companyId}/ownership-transfer`)
        .auth(token, { type: 'bearer' })
        .send({ userId });
    for (const role of ['admin', 'manager', 'member'] as const) {
      expectProblem(await transfer(c.as(role).accessToken, c.admin.userId), 403, 'FORBIDDEN');
    }
    expectProblem(await transfer(c.owner.accessToken, c.owner.userId), 400, 'VALIDATION_FAILED');
    expectProblem(await transfer(c.owner.accessToken, b.member.userId), 404, 'NOT_FOUND');
    expectProblem(await transfer(c.owner.accessToken, 'nope'), 400, 'VALIDATION_FAILED');

    const res = await transfer(c.owner.accessToken, c.manager.userId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      owner: { userId: c.manager.userId, role: 'owner' },
      previousOwner: { userId: c.owner.userId, role: 'admin' },
    });
    expect(await roleOf(c.companyId, c.owner.userId)).toBe('admin');
    expect(await roleOf(c.companyId, c.manager.userId)).toBe('owner');
    const audit = await t.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'member.ownership_transferred'",
      [c.companyId],
    );
    expect(audit.rows).toEqual([
      { metadata: { from: c.owner.userId, to: c.manager.userId, previousRole: 'manager' } },
    ]);
    // The former owner's token still says owner; the transfer re-checks the membership and refuses.
    expectProblem(await transfer(c.owner.accessToken, c.member.userId), 403, 'FORBIDDEN');
  });

  it("answers 404 with no data for another company's members and company id, on every route", async () => {
    const missing = await patch(b, b.admin.accessToken, MISSING, { role: 'member' });
    const attempts = [
      t.http().get(`/v1/companies/${a.companyId}/members`),
      t.http().patch(`/v1/companies/${a.companyId}/members/${a.member.userId}`).send({ role: 'admin' }),
      t.http().delete(`/v1/companies/${a.companyId}/members/${a.member.userId}`),
      t.http().post(`/v1/companies/${a.companyId}/ownership-transfer`).send({ userId: a.member.userId }),
      t.http().patch(`/v1/companies/${b.companyId}/members/${a.member.userId}`).send({ role: 'admin' }),
      t.http().delete(`/v1/companies/${b.companyId}/members/${a.member.userId}`),
      t.http().post(`/v1/companies/${b.companyId}/ownership-transfer`).send({ userId: a.member.userId }),
    ];
    for (const req of attempts) {
      const res = await req.auth(b.owner.accessToken, { type: 'bearer' });
      expectProblem(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain(a.member.email);
      expect(JSON.stringify(res.body)).not.toContain(a.companyId);
    }
    const foreign = await patch(b, b.admin.accessToken, a.member.userId, { role: 'member' });
    expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(missing.body));
    expect(await roleOf(a.companyId, a.member.userId)).toBe('member');
    expect(await roleOf(b.companyId, b.owner.userId)).toBe('owner');
    const list = await t
      .http()
      .get(`/v1/companies/${b.companyId}/members`)
      .auth(b.member.accessToken, { type: 'bearer' });
    expect(JSON.stringify(list.body)).not.toContain(a.member.email);
  });

  it('lets a user of several companies leave one without touching the other', async () => {
    const other = await registerCompany(t, 'Members Second Home');
    await addMember(t, other.companyId, 'member', a.manager.email);
    const session = await login(t, a.manager.email, other.slug);
    const res = await t
      .http()
      .delete(`/v1/companies/${other.companyId}/members/${a.manager.userId}`)
      .auth(session.accessToken, { type: 'bearer' });
    expect(res.status).toBe(204);
    expect(await roleOf(other.companyId, a.manager.userId)).toBeUndefined();
    expect(await roleOf(a.companyId, a.manager.userId)).toBe('manager');
    // Only that company's sessions were revoked.
    expect(
      (await t.http().post('/v1/auth/refresh').send({ refreshToken: a.manager.refreshToken })).status,
    ).toBe(200);
  });
});
