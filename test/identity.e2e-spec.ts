import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem } from './harness/problem.js';
import {
  addMember,
  createCompanySession,
  grantPlatformAdmin,
  login,
  registerCompany,
  TEST_PASSWORD,
  uniqueEmail,
  type CompanySession,
} from './harness/session.js';

describe('identity: accounts and sessions', () => {
  let t: TestApp;
  let a: CompanySession;
  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Acme Identity');
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers a user, a company with a derived slug and an owner membership, with API.md claims', async () => {
    const email = uniqueEmail();
    const res = await t
      .http()
      .post('/v1/auth/register')
      .send({ email, password: TEST_PASSWORD, name: 'Zoe', companyName: 'Zoë & Co. GmbH' });
    expect(res.status).toBe(201);
    expect(res.body.company.slug).toMatch(/^zoe-co-gmbh(-[0-9a-f]{6})?$/);
    expect(res.body.role).toBe('owner');
    const claims = decodeJwt(res.body.accessToken as string);
    expect(claims).toMatchObject({
      sub: res.body.user.id,
      company_id: res.body.company.id,
      role: 'owner',
      token_type: 'access',
      principal_type: 'user',
    });
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(15 * 60);
    const membership = await t.owner.query(
      'select role from memberships where user_id = $1 and company_id = $2',
      [res.body.user.id, res.body.company.id],
    );
    expect(membership.rows).toEqual([{ role: 'owner' }]);
    // The same company name again gets another slug.
    const again = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: uniqueEmail(), password: TEST_PASSWORD, name: 'Zed', companyName: 'Zoë & Co. GmbH' });
    expect(again.status).toBe(201);
    expect(again.body.company.slug).not.toBe(res.body.company.slug);
  });

  it('refuses a duplicate email (409), a weak password (400) and undeclared fields (400)', async () => {
    expectProblem(
      await t
        .http()
        .post('/v1/auth/register')
        .send({ email: a.owner.email.toUpperCase(), password: TEST_PASSWORD, name: 'X', companyName: 'X' }),
      409,
      'CONFLICT',
    );
    expectProblem(
      await t
        .http()
        .post('/v1/auth/register')
        .send({ email: uniqueEmail(), password: 'elevenchars', name: 'X', companyName: 'X' }),
      400,
      'VALIDATION_FAILED',
    );
    for (const field of ['companyId', 'company_id', 'role']) {
      const res = await t
        .http()
        .post('/v1/auth/register')
        .send({
          email: uniqueEmail(),
          password: TEST_PASSWORD,
          name: 'X',
          companyName: 'X',
          [field]: a.companyId,
        });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    }
  });

  it('gives the same 401 for an unknown email, a wrong password and a foreign company slug', async () => {
    const other = await registerCompany(t);
    const bodies = [
      await t.http().post('/v1/auth/login').send({ email: uniqueEmail(), password: TEST_PASSWORD }),
      await t.http().post('/v1/auth/login').send({ email: a.member.email, password: 'wrong password!!' }),
      await t
        .http()
        .post('/v1/auth/login')
        .send({ email: a.member.email, password: TEST_PASSWORD, companySlug: other.slug }),
    ];
    for (const res of bodies) expectProblem(res, 401, 'UNAUTHENTICATED');
    const details = new Set(bodies.map((r) => r.body.detail as string));
    expect(details.size).toBe(1);
  });

  it('describes the caller in GET /v1/me, and refuses missing, tampered and expired tokens', async () => {
    const me = await t.http().get('/v1/me').auth(a.manager.accessToken, { type: 'bearer' });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      role: 'manager',
      company: { id: a.companyId },
      user: { email: a.manager.email },
    });
    expectProblem(await t.http().get('/v1/me'), 401, 'UNAUTHENTICATED');
    const [h, p, s] = a.manager.accessToken.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...decodeJwt(a.manager.accessToken), role: 'owner' }),
    ).toString('base64url');
    expectProblem(
      await t.http().get('/v1/me').auth(`${h}.${forged}.${s}`, { type: 'bearer' }),
      401,
      'UNAUTHENTICATED',
    );
    void p;
    // A refresh token is not an access token.
    expectProblem(
      await t.http().get('/v1/me').auth(a.manager.refreshToken, { type: 'bearer' }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('ignores X-Company-Id headers and company_id query parameters', async () => {
    const other = await registerCompany(t);
    const res = await t
      .http()
      .get(`/v1/me?company_id=${other.companyId}`)
      .set('X-Company-Id', other.companyId)
      .auth(a.member.accessToken, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body.company.id).toBe(a.companyId);
  });

  it('rotates refresh tokens, and revokes the whole family when a spent one is reused', async () => {
    const s = await login(t, a.member.email, a.slug);
    const first = await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(s.refreshToken);
    const second = await t.http().post('/v1/auth/refresh').send({ refreshToken: first.body.refreshToken });
    expect(second.status).toBe(200);
    // Reuse of the first, already spent token: 401 and the family (including `second`) is dead.
    expectProblem(
      await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }),
      401,
      'UNAUTHENTICATED',
    );
    expectProblem(
      await t.http().post('/v1/auth/refresh').send({ refreshToken: second.body.refreshToken }),
      401,
      'UNAUTHENTICATED',
    );
    const events = await t.owner.query(
      "select count(*)::int as n from audit_events where company_id = $1 and action = 'auth.refresh_reuse_detected'",
      [a.companyId],
    );
    expect(events.rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it('lets only one of two concurrent refreshes of the same token win', async () => {
    const s = await login(t, a.member.email, a.slug);
    const results = await Promise.all(
      [1, 2].map(() => t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken })),
    );
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
  });

  it('stores refresh tokens hashed only', async () => {
    const s = await login(t, a.member.email, a.slug);
    const { rows } = await t.owner.query<{ token_hash: string }>('select token_hash from refresh_tokens');
    expect(rows.some((r) => r.token_hash === s.refreshToken)).toBe(false);
  });

  it('logs out: the session family is revoked', async () => {
    const s = await login(t, a.member.email, a.slug);
    const out = await t.http().post('/v1/auth/logout').auth(s.accessToken, { type: 'bearer' }).send({});
    expect(out.status).toBe(204);
    expectProblem(
      await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('switches company for a member of several, and answers 404 for a company they do not belong to', async () => {
    const b = await registerCompany(t, 'Second Co');
    await addMember(t, b.companyId, 'member', a.admin.email);
    const me = await t.http().get('/v1/me').auth(a.admin.accessToken, { type: 'bearer' });
    expect((me.body.memberships as { companyId: string }[]).map((m) => m.companyId).sort()).toEqual(
      [a.companyId, b.companyId].sort(),
    );
    const switched = await t
      .http()
      .post('/v1/auth/switch-company')
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ companyId: b.companyId });
    expect(switched.status).toBe(200);
    expect(decodeJwt(switched.body.accessToken as string)).toMatchObject({
      company_id: b.companyId,
      role: 'member',
    });
    const stranger = await registerCompany(t);
    const denied = await t
      .http()
      .post('/v1/auth/switch-company')
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ companyId: stranger.companyId });
    expectProblem(denied, 404, 'NOT_FOUND');
    const missing = await t
      .http()
      .post('/v1/auth/switch-company')
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ companyId: '01900000-0000-7000-8000-000000000000' });
    expect(missing.body).toMatchObject({ status: 404, code: 'NOT_FOUND', detail: denied.body.detail });
  });
});

describe('platform operators', () => {
  let t: TestApp;
  let a: CompanySession;
  let operator: { userId: string; email: string; accessToken: string };
  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Tenant Of Operator');
    const home = await registerCompany(t, 'Platform Home');
    await grantPlatformAdmin(t, home.owner.userId);
    operator = {
      userId: home.owner.userId,
      email: home.owner.email,
      accessToken: (await login(t, home.owner.email)).accessToken,
    };
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the directory for operators only, with metadata and no tenant data', async () => {
    const res = await t
      .http()
      .get('/v1/platform/companies?limit=100')
      .auth(operator.accessToken, { type: 'bearer' });
    expect(res.status).toBe(200);
    const entry = (res.body.data as Record<string, unknown>[]).find((c) => c.id === a.companyId);
    expect(entry && Object.keys(entry).sort()).toEqual(['createdAt', 'id', 'name', 'slug']);
    expectProblem(
      await t.http().get('/v1/platform/companies').auth(a.owner.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
  });

  it('switches in with a reason: a ≤ 60 min admin token with act, audited in that company', async () => {
    const short = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator.accessToken, { type: 'bearer' })
      .send({ reason: 'too short' });
    expectProblem(short, 400, 'VALIDATION_FAILED');
    const res = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator.accessToken, { type: 'bearer' })
      .send({ reason: 'Ticket 4711: customer asked for help' });
    expect(res.status).toBe(201);
    const claims = decodeJwt(res.body.accessToken as string);
    expect(claims).toMatchObject({
      company_id: a.companyId,
      principal_type: 'platform_admin',
      role: 'admin',
      act: { sub: operator.userId },
    });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    const me = await t
      .http()
      .get('/v1/me')
      .auth(res.body.accessToken as string, { type: 'bearer' });
    expect(me.body).toMatchObject({
      company: { id: a.companyId },
      role: 'admin',
      principalType: 'platform_admin',
      operatorId: operator.userId,
    });
    const events = await t.owner.query(
      "select actor_type, actor_id, metadata from audit_events where company_id = $1 and action = 'platform.switched_in'",
      [a.companyId],
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]).toMatchObject({
      actor_type: 'platform_admin',
      actor_id: operator.userId,
      metadata: { reason: 'Ticket 4711: customer asked for help' },
    });
  });

  it('cannot switch into a missing company, nor do it without the flag', async () => {
    expectProblem(
      await t
        .http()
        .post('/v1/platform/companies/01900000-0000-7000-8000-000000000000/switch')
        .auth(operator.accessToken, { type: 'bearer' })
        .send({ reason: 'looking around for fun' }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await t
        .http()
        .post(`/v1/platform/companies/${a.companyId}/switch`)
        .auth(a.admin.accessToken, { type: 'bearer' })
        .send({ reason: 'I would like to get in' }),
      403,
      'FORBIDDEN',
    );
  });
});
