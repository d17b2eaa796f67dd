import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../src/cli/command.js';
import { newId } from '../src/common/ids.js';
import { platformAdminCommand } from '../src/cli/commands/platform-admin.command.js';
import { ACCESS_CACHE_TTL_MS } from '../src/members/access.cache.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
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
import { TEST_ENV } from './setup/test-env.js';

/** Signs an access token like the server does (test JWT secret, issuer, audience), with the given lifetime. */
function signAccess(claims: Record<string, unknown>, iat: number, exp: number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('tenantry')
    .setAudience('tenantry-api')
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(TEST_ENV.JWT_SECRET));
}

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

  it('gives the loser of a race for a slug another slug, not a 409', async () => {
    const name = `Slug Race ${Date.now()}`;
    const slug = name.toLowerCase().replace(/ /g, '-');
    const register = () =>
      t
        .http()
        .post('/v1/auth/register')
        .send({ email: uniqueEmail('race'), password: TEST_PASSWORD, name: 'Racer', companyName: name });
    // Another registration takes the slug and has not committed yet: this one sees it free, inserts it, and
    // waits on the unique index until the other commits.
    const other = await t.owner.connect();
    try {
      await other.query('begin');
      const winner = newId();
      await other.query("insert into accounts (id, name) values ($1, 'The winner')", [winner]);
      await other.query(
        "insert into companies (id, name, slug, account_id) values ($1, 'The winner', $2, $1)",
        [winner, slug],
      );
      const xid = (await other.query<{ xid: string }>('select txid_current()::text as xid')).rows[0].xid;
      const pending = register().then((r) => r);
      let waiting = 0;
      for (let i = 0; i < 400 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        waiting = (
          await t.owner.query<{ n: number }>(
            "select count(*)::int as n from pg_locks where not granted and locktype = 'transactionid' and transactionid::text = $1",
            [xid],
          )
        ).rows[0].n;
      }
      expect(waiting).toBeGreaterThan(0);
      await other.query('commit');
      const res = await pending;
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.company.slug).toMatch(new RegExp(`^${slug}-[0-9a-f]{6}$`));
    } finally {
      other.release();
    }
    // And plain concurrency: five registrations of one new name all succeed, each with its own slug.
    const many = `Slug Crowd ${Date.now()}`;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        t
          .http()
          .post('/v1/auth/register')
          .send({ email: uniqueEmail('crowd'), password: TEST_PASSWORD, name: 'Crowd', companyName: many }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.company.slug as string)).size).toBe(5);
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
    // Expired: the manager's own claims, signed with the real key, differing only in their lifetime. The same
    // claims with a lifetime still running are accepted, so the refusal is the expiry's.
    const { iat: _iat, exp: _exp, iss: _iss, aud: _aud, ...claims } = decodeJwt(a.manager.accessToken);
    void [_iat, _exp, _iss, _aud];
    const now = Math.floor(Date.now() / 1000);
    const live = await signAccess(claims, now - 60, now + 600);
    expect((await t.http().get('/v1/me').auth(live, { type: 'bearer' })).status).toBe(200);
    const expired = await signAccess(claims, now - 1000, now - 100);
    expectProblem(await t.http().get('/v1/me').auth(expired, { type: 'bearer' }), 401, 'UNAUTHENTICATED');
  });

  it('remembers a verified token only until it expires, and only byte for byte', async () => {
    const { iat: _iat, exp: _exp, iss: _iss, aud: _aud, ...claims } = decodeJwt(a.manager.accessToken);
    void [_iat, _exp, _iss, _aud];
    const now = Math.floor(Date.now() / 1000);
    const short = await signAccess(claims, now, now + 2);
    const me = () => t.http().get('/v1/me').auth(short, { type: 'bearer' });
    // Verified once, then answered from memory (the guard keeps verified tokens by their exact text).
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    // Any other byte is verified in full: a copy with its signature changed is refused while the original passes.
    const [h, p, s] = short.split('.');
    const flipped = `${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    expectProblem(
      await t.http().get('/v1/me').auth(`${h}.${p}.${flipped}`, { type: 'bearer' }),
      401,
      'UNAUTHENTICATED',
    );
    expect((await me()).status).toBe(200);
    // Past its `exp` the remembered token is refused like any expired one.
    await new Promise((r) => setTimeout(r, Math.max(0, (now + 2) * 1000 - Date.now()) + 1_100));
    expectProblem(await me(), 401, 'UNAUTHENTICATED');
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
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
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
      // Read-only unless the switch-in asked for write.
      operator_mode: 'read',
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
      operatorMode: 'read',
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

describe('platform operators: the flag and what a switch-in cannot do', () => {
  let t: TestApp;
  let a: CompanySession;
  const out: string[] = [];
  let cli: CliContext;

  /** What `npm run cli -- platform-admin <verb> <email>` runs (its own connection, as the database owner). */
  const platformAdmin = (...args: string[]) => platformAdminCommand.run(args, cli);
  const directory = (token: string) => t.http().get('/v1/platform/companies').auth(token, { type: 'bearer' });

  async function switchIn(operatorToken: string, companyId: string): Promise<string> {
    const res = await t
      .http()
      .post(`/v1/platform/companies/${companyId}/switch`)
      .auth(operatorToken, { type: 'bearer' })
      // Write mode: what a switch-in cannot do must be refused by its own rule, not by the read-only default.
      .send({ reason: 'Ticket 5150: customer asked for help', mode: 'write' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.accessToken as string;
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Operated Co');
    cli = cliContext(t.config, out);
  });
  afterAll(async () => {
    await t.close();
  });

  it('grants and revokes the flag from the command line (npm run cli -- platform-admin)', async () => {
    const someone = await registerCompany(t, 'Future Operator Home');
    const token = someone.owner.accessToken;
    expectProblem(await directory(token), 403, 'FORBIDDEN');

    expect(await platformAdmin('grant', someone.owner.email.toUpperCase())).toBe(0);
    expect(out.at(-1)).toBe(`${someone.owner.email} is now a platform operator.`);
    const flag = await t.owner.query('select platform_admin from users where id = $1', [
      someone.owner.userId,
    ]);
    expect(flag.rows).toEqual([{ platform_admin: true }]);
    // Platform routes read the flag afresh: the token issued before the grant now opens the directory.
    expect((await directory(token)).status).toBe(200);

    expect(await platformAdmin('revoke', someone.owner.email)).toBe(0);
    expect(out.at(-1)).toBe(`${someone.owner.email} is no longer a platform operator.`);
    expectProblem(await directory(token), 403, 'FORBIDDEN');

    expect(await platformAdmin('grant', uniqueEmail('nobody'))).toBe(1);
    expect(await platformAdmin('promote', someone.owner.email)).toBe(2);
    expect(await platformAdmin('grant')).toBe(2);
  });

  it('refuses a switch-in token once the operator flag is revoked', async () => {
    const home = await registerCompany(t, 'Revoked Operator Home');
    expect(await platformAdmin('grant', home.owner.email)).toBe(0);
    const switched = await switchIn((await login(t, home.owner.email)).accessToken, a.companyId);
    const me = () => t.http().get('/v1/me').auth(switched, { type: 'bearer' });
    expect((await me()).status).toBe(200);

    expect(await platformAdmin('revoke', home.owner.email)).toBe(0);
    // The command runs in another process, so this instance learns of it within ACCESS_CACHE_TTL_MS (an
    // instance that changed a membership itself learns at once). Let that time pass on its monotonic clock.
    const realNow = performance.now.bind(performance);
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => realNow() + ACCESS_CACHE_TTL_MS + 1);
    try {
      expectProblem(await me(), 401, 'UNAUTHENTICATED');
      expectProblem(
        await t.http().get(`/v1/companies/${a.companyId}/members`).auth(switched, { type: 'bearer' }),
        401,
        'UNAUTHENTICATED',
      );
    } finally {
      clock.mockRestore();
    }
    expectProblem(await me(), 401, 'UNAUTHENTICATED');
  });

  it('does not let a switched-in operator transfer ownership, delete the company or obtain a secret', async () => {
    const home = await registerCompany(t, 'Careful Operator Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const operator = await switchIn((await login(t, home.owner.email)).accessToken, a.companyId);
    const as = (token: string) => ({
      get: (path: string) => t.http().get(path).auth(token, { type: 'bearer' }),
      post: (path: string, body: object = {}) =>
        t.http().post(path).auth(token, { type: 'bearer' }).send(body),
      delete: (path: string) => t.http().delete(path).auth(token, { type: 'bearer' }),
    });

    // Ownership and the company's existence stay the owner's.
    expectProblem(
      await as(operator).post(`/v1/companies/${a.companyId}/ownership-transfer`, { userId: a.admin.userId }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await as(operator).delete(`/v1/companies/${a.companyId}`), 403, 'FORBIDDEN');
    const owners = await t.owner.query(
      "select user_id from memberships where company_id = $1 and role = 'owner'",
      [a.companyId],
    );
    expect(owners.rows).toEqual([{ user_id: a.owner.userId }]);
    const company = await t.owner.query('select purge_after from companies where id = $1', [a.companyId]);
    expect(company.rows).toEqual([{ purge_after: null }]);

    // Secrets: nothing that mints one (API keys, application secrets) is open to the operator…
    const key = await as(a.admin.accessToken).post('/v1/api-keys', { name: 'ops', role: 'member' });
    expect(key.status).toBe(201);
    expectProblem(await as(operator).post('/v1/api-keys', { name: 'x', role: 'member' }), 403, 'FORBIDDEN');
    expectProblem(await as(operator).post(`/v1/api-keys/${key.body.id}/rotate`), 404, 'NOT_FOUND');
    const app = await as(a.owner.accessToken).post('/v1/applications', { name: 'ops app' });
    expect(app.status).toBe(201);
    expectProblem(await as(operator).post('/v1/applications', { name: 'x' }), 403, 'FORBIDDEN');
    expectProblem(await as(operator).post(`/v1/applications/${app.body.id}/rotate-secret`), 404, 'NOT_FOUND');
    // …and what it may read never carries one.
    const connectorSecret = `ops-secret-${Date.now()}`;
    const connector = await as(a.admin.accessToken).post('/v1/connectors', {
      toolId: 'ops.connector',
      endpointUrl: 'http://127.0.0.1:9/ops',
      authScheme: 'bearer',
      secret: connectorSecret,
    });
    expect(connector.status, JSON.stringify(connector.body)).toBe(201);
    const reads = [
      await as(operator).get(`/v1/connectors/${connector.body.id}`),
      await as(operator).get('/v1/connectors'),
      await as(operator).get(`/v1/api-keys/${key.body.id}`),
      await as(operator).get('/v1/api-keys'),
      await as(operator).get(`/v1/applications/${app.body.id}`),
      await as(operator).get('/v1/applications'),
    ];
    for (const res of reads) {
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      for (const secret of [connectorSecret, key.body.key as string, app.body.clientSecret as string]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(reads[0].body).toMatchObject({ hasSecret: true });
  });
});
