import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import {
  addMember,
  createCompanySession,
  grantPlatformAdmin,
  login,
  registerCompany,
  type CompanySession,
} from './harness/session.js';

const MISSING_ID = '01900000-0000-7000-8000-000000000000';

interface Credentials {
  id: string;
  clientId: string;
  clientSecret: string;
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('applications and the client credentials grant', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let appA: Credentials;
  let appB: Credentials;

  const createApp = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.http().post('/v1/applications').set(headers).auth(token, { type: 'bearer' }).send(body);

  async function newApp(token: string, body: Record<string, unknown> = {}): Promise<Credentials> {
    const res = await createApp(token, { name: 'integration', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return {
      id: res.body.id as string,
      clientId: res.body.clientId as string,
      clientSecret: res.body.clientSecret as string,
    };
  }

  const form = (fields: Record<string, string>) =>
    t.http().post('/v1/oauth/token').type('form').send(new URLSearchParams(fields).toString());

  async function tokenFor(app: Credentials): Promise<string> {
    const res = await form({ grant_type: 'client_credentials' }).set(
      'Authorization',
      basic(app.clientId, app.clientSecret),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.access_token as string;
  }

  function expectOAuthError(
    res: Awaited<ReturnType<typeof form>>,
    status: number,
    error: string,
  ): Record<string, unknown> {
    expectProblem(res, status, status === 401 ? 'UNAUTHENTICATED' : 'VALIDATION_FAILED');
    expect(res.body.error).toBe(error);
    expect(typeof res.body.error_description).toBe('string');
    expect(res.headers['cache-control']).toBe('no-store');
    if (status === 401) expect(res.headers['www-authenticate']).toBe('Basic realm="tenantry"');
    return withoutRequestId(res.body as Record<string, unknown>);
  }

  async function events(companyId: string, action: string, targetId: string) {
    const { rows } = await t.owner.query<{ metadata: Record<string, unknown> }>(
      'select metadata from audit_events where company_id = $1 and action = $2 and target_id = $3',
      [companyId, action, targetId],
    );
    return rows;
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Apps A');
    b = await createCompanySession(t, 'Apps B');
    appA = await newApp(a.owner.accessToken, { name: 'A sync', description: 'nightly sync' });
    appB = await newApp(b.owner.accessToken, { name: 'B sync' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets the owner create an application with a client id and a secret shown once', async () => {
    const res = await createApp(a.owner.accessToken, { name: 'reporting', role: 'manager' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'reporting',
      role: 'manager',
      description: null,
      createdBy: a.owner.userId,
    });
    expect(res.body.clientId).toMatch(/^app_[0-9A-Za-z]{24}$/);
    expect(res.body.clientSecret).toMatch(/^cs_live_[0-9A-Za-z]{40}_[0-9A-Za-z]{6}$/);
    const { rows } = await t.owner.query<{ client_secret_hash: string }>(
      'select client_secret_hash from applications where id = $1',
      [res.body.id],
    );
    expect(rows[0].client_secret_hash).not.toBe(res.body.clientSecret);
    expect(await events(a.companyId, 'application.created', res.body.id as string)).toHaveLength(1);
    // Default role: member.
    const dflt = await createApp(a.owner.accessToken, { name: 'default role' });
    expect(dflt.body.role).toBe('member');
    expectProblem(
      await createApp(a.owner.accessToken, { name: 'x', companyId: b.companyId }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('holds the role matrix: admins read, only the owner writes; item denials are 404', async () => {
    const list = await t.http().get('/v1/applications').auth(a.admin.accessToken, { type: 'bearer' });
    expect(list.status).toBe(200);
    const row = (list.body.data as Record<string, unknown>[]).find((x) => x.id === appA.id);
    expect(row).toMatchObject({ clientId: appA.clientId, name: 'A sync', description: 'nightly sync' });
    expect(JSON.stringify(list.body)).not.toContain(appA.clientSecret);
    expect(row).not.toHaveProperty('clientSecret');
    const one = await t
      .http()
      .get(`/v1/applications/${appA.id}`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('clientSecret');

    expectProblem(await createApp(a.admin.accessToken, { name: 'x' }), 403, 'FORBIDDEN');
    expectProblem(
      await t.http().get('/v1/applications').auth(a.member.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await t.http().get('/v1/applications').auth(a.manager.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    const missing = await t
      .http()
      .patch(`/v1/applications/${MISSING_ID}`)
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({ name: 'renamed' });
    expectProblem(missing, 404, 'NOT_FOUND');
    const denials = [
      t.http().get(`/v1/applications/${appA.id}`).auth(a.member.accessToken, { type: 'bearer' }),
      t
        .http()
        .patch(`/v1/applications/${appA.id}`)
        .auth(a.admin.accessToken, { type: 'bearer' })
        .send({ name: 'renamed' }),
      t.http().delete(`/v1/applications/${appA.id}`).auth(a.admin.accessToken, { type: 'bearer' }),
      t
        .http()
        .post(`/v1/applications/${appA.id}/rotate-secret`)
        .auth(a.admin.accessToken, { type: 'bearer' }),
    ];
    for (const res of await Promise.all(denials)) {
      expectProblem(res, 404, 'NOT_FOUND');
      expect(withoutRequestId(res.body as Record<string, unknown>)).toEqual(
        withoutRequestId(missing.body as Record<string, unknown>),
      );
    }
    expect((await events(a.companyId, 'authorization.denied', appA.id)).length).toBeGreaterThanOrEqual(4);
  });

  it('issues a token for a form request with HTTP Basic, and for JSON with body credentials', async () => {
    const res = await form({ grant_type: 'client_credentials' }).set(
      'Authorization',
      basic(appA.clientId, appA.clientSecret),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: t.config.auth.accessTtlSeconds,
    });
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({
      sub: appA.id,
      company_id: a.companyId,
      role: 'member',
      principal_type: 'application',
      token_type: 'access',
    });

    const json = await t.http().post('/v1/oauth/token').send({
      grant_type: 'client_credentials',
      client_id: appA.clientId,
      client_secret: appA.clientSecret,
    });
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    // A form body with body credentials, and Basic with the same client_id repeated in the body, work too.
    expect(
      (
        await form({
          grant_type: 'client_credentials',
          client_id: appA.clientId,
          client_secret: appA.clientSecret,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await form({ grant_type: 'client_credentials', client_id: appA.clientId }).set(
          'Authorization',
          basic(appA.clientId, appA.clientSecret),
        )
      ).status,
    ).toBe(200);
  });

  it('the application token acts in its one company as an application principal with its role', async () => {
    const token = await tokenFor(appA);
    const me = await t.http().get('/v1/me').auth(token, { type: 'bearer' });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      principalType: 'application',
      principalId: appA.id,
      role: 'member',
      company: { id: a.companyId },
      user: null,
      memberships: [],
    });
    // Member role: admin routes are closed, and B's resources are invisible.
    expectProblem(await t.http().get('/v1/applications').auth(token, { type: 'bearer' }), 403, 'FORBIDDEN');
    expectProblem(
      await t.http().get(`/v1/applications/${appB.id}`).auth(token, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
    // Credentials do not mint credentials.
    expectProblem(
      await t.http().post('/v1/api-keys').auth(token, { type: 'bearer' }).send({ name: 'x', role: 'member' }),
      403,
      'FORBIDDEN',
    );
  });

  it('refuses bad token requests per RFC 6749 §5.2, without telling whether a client exists', async () => {
    expectOAuthError(
      await form({ grant_type: 'password', username: 'x', password: 'y' }).set(
        'Authorization',
        basic(appA.clientId, appA.clientSecret),
      ),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(
      await form({
        grant_type: 'authorization_code',
        client_id: appA.clientId,
        client_secret: appA.clientSecret,
      }),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(
      await form({ client_id: appA.clientId, client_secret: appA.clientSecret }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await form({ grant_type: 'client_credentials', client_secret: appA.clientSecret }).set(
        'Authorization',
        basic(appA.clientId, appA.clientSecret),
      ),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await t
        .http()
        .post('/v1/oauth/token')
        .send({ grant_type: 'client_credentials', client_id: appA.clientId, client_secret: 42 }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await form({ grant_type: 'client_credentials', scope: 'admin' }).set(
        'Authorization',
        basic(appA.clientId, appA.clientSecret),
      ),
      400,
      'invalid_scope',
    );

    const wrongSecret = basic(
      appA.clientId,
      appB.clientSecret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
    );
    const failures = [
      // Another company's application secret.
      await form({ grant_type: 'client_credentials' }).set(
        'Authorization',
        basic(appA.clientId, appB.clientSecret),
      ),
      await form({
        grant_type: 'client_credentials',
        client_id: appB.clientId,
        client_secret: appA.clientSecret,
      }),
      // Unknown client, mistyped secret, nothing at all, another scheme.
      await form({ grant_type: 'client_credentials' }).set(
        'Authorization',
        basic('app_000000000000000000000000', appA.clientSecret),
      ),
      await form({ grant_type: 'client_credentials' }).set('Authorization', wrongSecret),
      await form({ grant_type: 'client_credentials' }),
      await form({ grant_type: 'client_credentials' }).set('Authorization', 'Bearer whatever'),
    ];
    const bodies = failures.map((res) => expectOAuthError(res, 401, 'invalid_client'));
    for (const body of bodies) expect(body).toEqual(bodies[0]);

    // A wrong secret for an existing application is audited in its company (not in the caller's).
    const denied = await events(a.companyId, 'application.token_denied', appA.id);
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect(denied[0].metadata.reason).toBe('invalid_secret');
    expect(await events(b.companyId, 'application.token_denied', appA.id)).toHaveLength(0);
  });

  it('lets the owner edit an application; new tokens carry the new role', async () => {
    const app = await newApp(a.owner.accessToken, { name: 'editable' });
    const res = await t
      .http()
      .patch(`/v1/applications/${app.id}`)
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({ name: 'edited', description: 'now described', role: 'admin' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ name: 'edited', description: 'now described', role: 'admin' });
    expect((await events(a.companyId, 'application.updated', app.id))[0].metadata).toEqual({
      fields: ['name', 'description', 'role'],
      role: 'admin',
    });
    const me = await t
      .http()
      .get('/v1/me')
      .auth(await tokenFor(app), { type: 'bearer' });
    expect(me.body.role).toBe('admin');
    const cleared = await t
      .http()
      .patch(`/v1/applications/${app.id}`)
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({ description: null });
    expect(cleared.body.description).toBeNull();
    expectProblem(
      await t
        .http()
        .patch(`/v1/applications/${app.id}`)
        .auth(a.owner.accessToken, { type: 'bearer' })
        .send({ clientId: 'app_mine' }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('rotates the secret: the old one stops at once, the new one works', async () => {
    const app = await newApp(a.owner.accessToken, { name: 'rotating' });
    const res = await t
      .http()
      .post(`/v1/applications/${app.id}/rotate-secret`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(res.status).toBe(201);
    expect(res.body.clientId).toBe(app.clientId);
    expect(res.body.clientSecret).not.toBe(app.clientSecret);
    expectOAuthError(
      await form({ grant_type: 'client_credentials' }).set(
        'Authorization',
        basic(app.clientId, app.clientSecret),
      ),
      401,
      'invalid_client',
    );
    expect(await tokenFor({ ...app, clientSecret: res.body.clientSecret as string })).toBeTruthy();
    expect(await events(a.companyId, 'application.secret_rotated', app.id)).toHaveLength(1);
  });

  it('deletes an application: it is gone and its secret no longer works', async () => {
    const app = await newApp(a.owner.accessToken, { name: 'doomed' });
    const res = await t
      .http()
      .delete(`/v1/applications/${app.id}`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(res.status).toBe(204);
    expectProblem(
      await t.http().get(`/v1/applications/${app.id}`).auth(a.owner.accessToken, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
    expectOAuthError(
      await form({ grant_type: 'client_credentials' }).set(
        'Authorization',
        basic(app.clientId, app.clientSecret),
      ),
      401,
      'invalid_client',
    );
    expect(await events(a.companyId, 'application.deleted', app.id)).toHaveLength(1);
  });

  it('does not let credentials or switched-in operators manage applications', async () => {
    const ownerKey = await t
      .http()
      .post('/v1/api-keys')
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({ name: 'owner key', role: 'owner' });
    const key = ownerKey.body.key as string;
    expectProblem(await createApp(key, { name: 'x' }), 403, 'FORBIDDEN');
    expectProblem(
      await t.http().patch(`/v1/applications/${appA.id}`).auth(key, { type: 'bearer' }).send({ name: 'x' }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await t.http().post(`/v1/applications/${appA.id}/rotate-secret`).auth(key, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
    const ownerApp = await newApp(a.owner.accessToken, { name: 'owner app', role: 'owner' });
    const appToken = await tokenFor(ownerApp);
    expectProblem(
      await t.http().delete(`/v1/applications/${appA.id}`).auth(appToken, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );

    const home = await registerCompany(t, 'Apps Operator Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const switched = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth((await login(t, home.owner.email)).accessToken, { type: 'bearer' })
      // Write mode, so the refusals below come from the operator's own limits, not the read-only default.
      .send({ reason: 'Ticket 99: reviewing integrations', mode: 'write' });
    const operator = switched.body.accessToken as string;
    expectProblem(await createApp(operator, { name: 'x' }), 403, 'FORBIDDEN');
    expectProblem(
      await t.http().post(`/v1/applications/${appA.id}/rotate-secret`).auth(operator, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
    expect(
      (await t.http().get(`/v1/applications/${appA.id}`).auth(operator, { type: 'bearer' })).status,
    ).toBe(200);
    // Nothing changed.
    expect(await tokenFor(appA)).toBeTruthy();
  });

  it('lists the applications of every company of a user with ?scope=account, each with its company', async () => {
    const home = await registerCompany(t, 'Account Home');
    const adminOf = await registerCompany(t, 'Account Admin Of');
    const memberOf = await registerCompany(t, 'Account Member Of');
    await addMember(t, adminOf.companyId, 'admin', home.owner.email);
    await addMember(t, memberOf.companyId, 'member', home.owner.email);
    const homeApp = await newApp(home.owner.accessToken, { name: 'home app' });
    const adminApp = await newApp(adminOf.owner.accessToken, { name: 'admin-of app' });
    const memberApp = await newApp(memberOf.owner.accessToken, { name: 'member-of app' });

    const res = await t
      .http()
      .get('/v1/applications?scope=account')
      .auth(home.owner.accessToken, { type: 'bearer' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rows = res.body.data as { id: string; company: { id: string; name: string; slug: string } }[];
    expect(rows.map((r) => r.id).sort()).toEqual([homeApp.id, adminApp.id].sort());
    expect(rows.find((r) => r.id === adminApp.id)!.company).toEqual({
      id: adminOf.companyId,
      name: adminOf.name,
      slug: adminOf.slug,
    });
    expect(rows.map((r) => r.id)).not.toContain(memberApp.id);
    expect(JSON.stringify(res.body)).not.toContain('clientSecret');

    // Keyset pages across companies, newest first.
    const first = await t
      .http()
      .get('/v1/applications?scope=account&limit=1')
      .auth(home.owner.accessToken, { type: 'bearer' });
    expect(first.body.data.map((r: { id: string }) => r.id)).toEqual([adminApp.id]);
    const second = await t
      .http()
      .get(`/v1/applications?scope=account&limit=1&cursor=${first.body.nextCursor as string}`)
      .auth(home.owner.accessToken, { type: 'bearer' });
    expect(second.body.data.map((r: { id: string }) => r.id)).toEqual([homeApp.id]);
    expect(second.body.nextCursor).toBeNull();

    // The default scope stays the one company.
    const company = await t.http().get('/v1/applications').auth(home.owner.accessToken, { type: 'bearer' });
    expect((company.body.data as { id: string }[]).map((r) => r.id)).toEqual([homeApp.id]);
    expectProblem(
      await t
        .http()
        .get('/v1/applications?scope=everything')
        .auth(home.owner.accessToken, { type: 'bearer' }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it("caps an application's tokens by its creator's current role, and refuses them once the creator left", async () => {
    const { userId, email } = await addMember(t, a.companyId, 'owner');
    const creator = { userId, accessToken: (await login(t, email, a.slug)).accessToken };
    const app = await newApp(creator.accessToken, { name: 'capped', role: 'owner' });
    const roleOfToken = async () => decodeJwt(await tokenFor(app)).role;
    expect(await roleOfToken()).toBe('owner');

    const setRole = (role: string) =>
      t
        .http()
        .patch(`/v1/companies/${a.companyId}/members/${userId}`)
        .auth(a.owner.accessToken, { type: 'bearer' })
        .send({ role });
    expect((await setRole('manager')).status).toBe(200);
    // The application still says owner; its tokens carry the weaker of that and its creator's role now.
    expect(await roleOfToken()).toBe('manager');
    const token = await tokenFor(app);
    expectProblem(await t.http().get('/v1/api-keys').auth(token, { type: 'bearer' }), 403, 'FORBIDDEN');
    expect((await setRole('owner')).status).toBe(200);
    expect(await roleOfToken()).toBe('owner');

    const removed = await t
      .http()
      .delete(`/v1/companies/${a.companyId}/members/${userId}`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(removed.status).toBe(204);
    const refused = await form({ grant_type: 'client_credentials' }).set(
      'Authorization',
      basic(app.clientId, app.clientSecret),
    );
    // The same 401 as an unknown client or a wrong secret: nothing tells the caller why.
    const body = expectOAuthError(refused, 401, 'invalid_client');
    const unknown = await form({ grant_type: 'client_credentials' }).set(
      'Authorization',
      basic('app_000000000000000000000000', app.clientSecret),
    );
    expect(body).toEqual(expectOAuthError(unknown, 401, 'invalid_client'));
    const denied = await events(a.companyId, 'application.token_denied', app.id);
    expect(denied.map((e) => e.metadata.reason)).toEqual(['creator_not_member']);
  });

  it("checks the caller's current role, not the token's, when creating or editing an application", async () => {
    const { userId, email } = await addMember(t, a.companyId, 'owner');
    const token = (await login(t, email, a.slug)).accessToken;
    const app = await newApp(token, { name: 'before demotion', role: 'member' });
    // The token (and any cached view of it) still says owner; the membership now says admin. The demotion is
    // written directly, as another instance would: whichever check sees it first refuses.
    expect((await t.http().get('/v1/me').auth(token, { type: 'bearer' })).body.role).toBe('owner');
    await t.owner.query("update memberships set role = 'admin' where company_id = $1 and user_id = $2", [
      a.companyId,
      userId,
    ]);
    const created = await createApp(token, { name: 'above my role', role: 'owner' });
    expectProblem(created, 403, 'FORBIDDEN');
    const edited = await t
      .http()
      .patch(`/v1/applications/${app.id}`)
      .auth(token, { type: 'bearer' })
      .send({ role: 'owner' });
    expect([403, 404]).toContain(edited.status);
    const { rows } = await t.owner.query<{ name: string; role: string }>(
      'select name, role from applications where company_id = $1 and created_by = $2',
      [a.companyId, userId],
    );
    expect(rows).toEqual([{ name: 'before demotion', role: 'member' }]);
  });

  it('lists the account scope for a member of the active company who may read applications elsewhere', async () => {
    const owned = await registerCompany(t, 'Account Owned Elsewhere');
    const active = await registerCompany(t, 'Account Active As Member');
    await addMember(t, active.companyId, 'member', owned.owner.email);
    const ownedApp = await newApp(owned.owner.accessToken, { name: 'owned elsewhere' });
    const activeApp = await newApp(active.owner.accessToken, { name: 'where only a member' });
    // Signed in to the company where they are a member: the company scope is not theirs to read…
    const asMember = (await login(t, owned.owner.email, active.slug)).accessToken;
    expect(decodeJwt(asMember)).toMatchObject({ company_id: active.companyId, role: 'member' });
    expectProblem(
      await t.http().get('/v1/applications').auth(asMember, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    // …but the account scope is: it lists the companies where they may read applications (owner there), and
    // leaves out the active one, where a member may not.
    const res = await t.http().get('/v1/applications?scope=account').auth(asMember, { type: 'bearer' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rows = res.body.data as { id: string; company: { id: string } }[];
    expect(rows.map((r) => r.id)).toEqual([ownedApp.id]);
    expect(rows[0].company).toEqual({ id: owned.companyId, name: owned.name, slug: owned.slug });
    expect(rows.map((r) => r.id)).not.toContain(activeApp.id);
  });

  it('refuses a body on routes that take none (400), and still accepts none or {}', async () => {
    const app = await newApp(a.owner.accessToken, { name: 'no body please' });
    const rotate = (body?: object) => {
      const req = t.http().post(`/v1/applications/${app.id}/rotate-secret`).auth(a.owner.accessToken, {
        type: 'bearer',
      });
      return body === undefined ? req : req.send(body);
    };
    const refused = await rotate({ companyId: b.companyId, role: 'owner' });
    expectProblem(refused, 400, 'VALIDATION_FAILED');
    expect((refused.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'companyId',
      'role',
    ]);
    // Nothing happened: the secret still works and the role is unchanged.
    expect(decodeJwt(await tokenFor(app)).role).toBe('member');
    const rotated = await rotate({});
    expect(rotated.status).toBe(201);
    expect((await rotate()).status).toBe(201);

    const del = (body?: unknown) => {
      const req = t.http().delete(`/v1/applications/${app.id}`).auth(a.owner.accessToken, { type: 'bearer' });
      return body === undefined ? req : req.send(body as object);
    };
    expectProblem(await del({ companyId: a.companyId }), 400, 'VALIDATION_FAILED');
    expectProblem(await del(['x']), 400, 'VALIDATION_FAILED');
    const still = await t
      .http()
      .get(`/v1/applications/${app.id}`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(still.status).toBe(200);
    expect((await del()).status).toBe(204);
  });

  it('answers 403 to API keys and applications asking for the account scope', async () => {
    const key = await t
      .http()
      .post('/v1/api-keys')
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ name: 'admin key', role: 'admin' });
    expectProblem(
      await t
        .http()
        .get('/v1/applications?scope=account')
        .auth(key.body.key as string, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    // An admin-role key may list its own company's applications.
    expect(
      (
        await t
          .http()
          .get('/v1/applications')
          .auth(key.body.key as string, { type: 'bearer' })
      ).status,
    ).toBe(200);
    const adminApp = await newApp(a.owner.accessToken, { name: 'admin app', role: 'admin' });
    const token = await tokenFor(adminApp);
    expect((await t.http().get('/v1/applications').auth(token, { type: 'bearer' })).status).toBe(200);
    expectProblem(
      await t.http().get('/v1/applications?scope=account').auth(token, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
  });

  it('honours Idempotency-Key on create and on rotate-secret', async () => {
    const headers = { 'Idempotency-Key': `app-${Date.now()}` };
    const first = await createApp(a.owner.accessToken, { name: 'idem app' }, headers);
    expect(first.status).toBe(201);
    const retry = await createApp(a.owner.accessToken, { name: 'idem app' }, headers);
    expectProblem(retry, 409, 'CONFLICT');
    expect(retry.body).toMatchObject({ resourceType: 'Application', resourceId: first.body.id });
    expect(JSON.stringify(retry.body)).not.toContain('cs_live_');
    const { rows } = await t.owner.query(
      "select count(*)::int as n from applications where company_id = $1 and name = 'idem app'",
      [a.companyId],
    );
    expect(rows[0].n).toBe(1);

    const rotateHeaders = { 'Idempotency-Key': `rotate-${Date.now()}` };
    const rotate = () =>
      t
        .http()
        .post(`/v1/applications/${first.body.id as string}/rotate-secret`)
        .set(rotateHeaders)
        .auth(a.owner.accessToken, { type: 'bearer' });
    const rotated = await rotate();
    expect(rotated.status).toBe(201);
    expectProblem(await rotate(), 409, 'CONFLICT');
    // The secret of the first rotation is the one that works.
    expect(
      await tokenFor({
        id: first.body.id as string,
        clientId: first.body.clientId as string,
        clientSecret: rotated.body.clientSecret as string,
      }),
    ).toBeTruthy();
  });

  it("answers another company's application ids exactly like missing ones, on every application route", async () => {
    for (const actor of [b.admin, b.owner]) {
      const routes = (target: string) => [
        t.http().get(`/v1/applications/${target}`).auth(actor.accessToken, { type: 'bearer' }),
        t
          .http()
          .patch(`/v1/applications/${target}`)
          .auth(actor.accessToken, { type: 'bearer' })
          .send({ name: 'hijacked' }),
        t.http().delete(`/v1/applications/${target}`).auth(actor.accessToken, { type: 'bearer' }),
        t.http().post(`/v1/applications/${target}/rotate-secret`).auth(actor.accessToken, { type: 'bearer' }),
      ];
      const foreign = await Promise.all(routes(appA.id));
      const missing = await Promise.all(routes(MISSING_ID));
      foreign.forEach((res, i) => {
        expectProblem(res, 404, 'NOT_FOUND');
        expect(withoutRequestId(res.body as Record<string, unknown>)).toEqual(
          withoutRequestId(missing[i].body as Record<string, unknown>),
        );
        expect(JSON.stringify(res.body)).not.toContain(a.companyId);
      });
      const list = await t
        .http()
        .get('/v1/applications?limit=100')
        .auth(actor.accessToken, { type: 'bearer' });
      expect((list.body.data as { id: string }[]).map((x) => x.id)).not.toContain(appA.id);
    }
    // A's application is untouched.
    const own = await t
      .http()
      .get(`/v1/applications/${appA.id}`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(own.body.name).toBe('A sync');
    expect(await tokenFor(appA)).toBeTruthy();
  });

  it('the by-hash policy shows the app role exactly the one application whose client id hash it presents', async () => {
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(appA.clientId).digest('hex');
    const client = await t.appRole.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.credential_hash', $1, true)", [hash]);
      const { rows } = await client.query<{ id: string }>('select id from applications');
      await client.query('commit');
      expect(rows.map((r) => r.id)).toEqual([appA.id]);
      const none = await client.query('select id from applications');
      expect(none.rows).toEqual([]);
    } finally {
      client.release();
    }
  });
});
