import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_KEY_FORMAT } from '../src/api-keys/api-key-format.js';
import { ApiKeyUsageRecorder } from '../src/api-keys/api-key-usage.recorder.js';
import { IdempotencyService } from '../src/idempotency/idempotency.service.js';
import { SESSION } from '../src/tenancy/tenant.entity.js';
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
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('API keys', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Keys A');
    b = await createCompanySession(t, 'Keys B');
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.http().post('/v1/api-keys').set(headers).auth(token, { type: 'bearer' }).send(body);

  async function newKey(token: string, body: Record<string, unknown> = {}) {
    const res = await create(token, { name: 'ci', role: 'admin', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id as string, key: res.body.key as string, body: res.body };
  }

  const me = (key: string) => t.http().get('/v1/me').auth(key, { type: 'bearer' });

  /** A fresh admin of `s` (so demoting or removing them disturbs no other test), signed in. */
  async function freshAdmin(s: CompanySession) {
    const { userId, email } = await addMember(t, s.companyId, 'admin');
    return { userId, email, accessToken: (await login(t, email, s.slug)).accessToken };
  }

  async function events(companyId: string, action: string, targetId: string) {
    const { rows } = await t.owner.query<{ metadata: Record<string, unknown>; actor_type: string }>(
      'select metadata, actor_type from audit_events where company_id = $1 and action = $2 and target_id = $3 order by seq',
      [companyId, action, targetId],
    );
    return rows;
  }

  it('creates a key shown once, stored as a hash, listed masked, and audited', async () => {
    const res = await create(a.admin.accessToken, { name: 'deploy bot', role: 'manager' });
    expect(res.status).toBe(201);
    const key = res.body.key as string;
    expect(key).toMatch(/^sk_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(res.body).toMatchObject({
      name: 'deploy bot',
      role: 'manager',
      status: 'active',
      createdBy: a.admin.userId,
      maskedKey: `sk_live_…${key.slice(-4)}`,
      lastUsedAt: null,
      revokedAt: null,
    });
    const days = (Date.parse(res.body.expiresAt as string) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    const { rows } = await t.owner.query<{ key_hash: string; company_id: string }>(
      'select key_hash, company_id from api_keys where id = $1',
      [res.body.id],
    );
    expect(rows).toEqual([{ key_hash: sha256(key), company_id: a.companyId }]);

    const list = await t.http().get('/v1/api-keys').auth(a.admin.accessToken, { type: 'bearer' });
    expect(list.status).toBe(200);
    const row = (list.body.data as Record<string, unknown>[]).find((k) => k.id === res.body.id);
    expect(row).toMatchObject({ maskedKey: `sk_live_…${key.slice(-4)}`, createdBy: a.admin.userId });
    expect(JSON.stringify(list.body)).not.toContain(key);
    const one = await t
      .http()
      .get(`/v1/api-keys/${res.body.id}`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('key');
    expect(await events(a.companyId, 'api_key.created', res.body.id as string)).toHaveLength(1);
  });

  it('accepts an expiry of 1–365 days or explicitly none, and nothing else', async () => {
    const never = await newKey(a.admin.accessToken, { expiresInDays: null });
    expect(never.body.expiresAt).toBeNull();
    const year = await newKey(a.admin.accessToken, { expiresInDays: 365 });
    expect(Date.parse(year.body.expiresAt as string) - Date.now()).toBeGreaterThan(364 * 86_400_000);
    for (const expiresInDays of [0, 366, 1.5, '30']) {
      expectProblem(
        await create(a.admin.accessToken, { name: 'x', role: 'member', expiresInDays }),
        400,
        'VALIDATION_FAILED',
      );
    }
    for (const extra of [{ companyId: b.companyId }, { role: 'root' }, { createdBy: a.owner.userId }]) {
      expectProblem(
        await create(a.admin.accessToken, { name: 'x', role: 'member', ...extra }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('authenticates as Bearer: GET /v1/me as an api_key principal of its company, and admin routes', async () => {
    const { id, key } = await newKey(a.admin.accessToken);
    const res = await me(key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      principalType: 'api_key',
      principalId: id,
      role: 'admin',
      company: { id: a.companyId },
      user: { id: a.admin.userId },
      memberships: [],
    });
    const adminRoute = await t.http().get('/v1/api-keys').auth(key, { type: 'bearer' });
    expect(adminRoute.status).toBe(200);
    // A member-role key is refused on the same admin route.
    const member = await newKey(a.admin.accessToken, { role: 'member' });
    expectProblem(await t.http().get('/v1/api-keys').auth(member.key, { type: 'bearer' }), 403, 'FORBIDDEN');
  });

  it("refuses a role above the creator's own (403), and members altogether (403)", async () => {
    const res = await create(a.admin.accessToken, { name: 'too strong', role: 'owner' });
    expectProblem(res, 403, 'FORBIDDEN');
    expect(res.body.detail).toMatch(/above your own role/);
    expectProblem(await create(a.member.accessToken, { name: 'x', role: 'member' }), 403, 'FORBIDDEN');
    expectProblem(await create(a.manager.accessToken, { name: 'x', role: 'member' }), 403, 'FORBIDDEN');
    const owner = await newKey(a.owner.accessToken, { role: 'owner' });
    expect((await me(owner.key)).body.role).toBe('owner');
  });

  it("acts with its role intersected with the creator's current role, and stops when the creator leaves", async () => {
    const creator = await freshAdmin(a);
    const { id, key } = await newKey(creator.accessToken, { role: 'admin' });
    expect((await me(key)).body.role).toBe('admin');

    await t.owner.query("update memberships set role = 'member' where company_id = $1 and user_id = $2", [
      a.companyId,
      creator.userId,
    ]);
    expect((await me(key)).body.role).toBe('member');
    expectProblem(await t.http().get('/v1/api-keys').auth(key, { type: 'bearer' }), 403, 'FORBIDDEN');

    await t.owner.query("update memberships set role = 'owner' where company_id = $1 and user_id = $2", [
      a.companyId,
      creator.userId,
    ]);
    // Promoting the creator does not lift the key above its own role.
    expect((await me(key)).body.role).toBe('admin');

    await t.owner.query('delete from memberships where company_id = $1 and user_id = $2', [
      a.companyId,
      creator.userId,
    ]);
    expectProblem(await me(key), 401, 'UNAUTHENTICATED');
    const denied = await events(a.companyId, 'api_key.use_denied', id);
    expect(denied.map((e) => e.metadata.reason)).toEqual(['creator_not_member']);
  });

  it('resolves to exactly its one company when its creator belongs to several', async () => {
    const other = await registerCompany(t, 'Keys Other');
    const both = await freshAdmin(a);
    await addMember(t, other.companyId, 'admin', both.email);
    const inOther = (await login(t, both.email, other.slug)).accessToken;

    const keyA = await newKey(both.accessToken);
    const keyOther = await newKey(inOther);
    expect((await me(keyA.key)).body.company.id).toBe(a.companyId);
    expect((await me(keyOther.key)).body.company.id).toBe(other.companyId);
    // Headers and query parameters naming the other company change nothing.
    const res = await t
      .http()
      .get(`/v1/api-keys?company_id=${other.companyId}`)
      .set('X-Company-Id', other.companyId)
      .auth(keyA.key, { type: 'bearer' });
    const ids = (res.body.data as { id: string }[]).map((k) => k.id);
    expect(ids).toContain(keyA.id);
    expect(ids).not.toContain(keyOther.id);
    // Leaving one company ends only that company's key.
    await t.owner.query('delete from memberships where company_id = $1 and user_id = $2', [
      other.companyId,
      both.userId,
    ]);
    expectProblem(await me(keyOther.key), 401, 'UNAUTHENTICATED');
    expect((await me(keyA.key)).status).toBe(200);
  });

  it('stops working once expired', async () => {
    const { id, key } = await newKey(a.admin.accessToken, { expiresInDays: 1 });
    expect((await me(key)).status).toBe(200);
    await t.owner.query("update api_keys set expires_at = now() - interval '1 second' where id = $1", [id]);
    expectProblem(await me(key), 401, 'UNAUTHENTICATED');
    const one = await t.http().get(`/v1/api-keys/${id}`).auth(a.admin.accessToken, { type: 'bearer' });
    expect(one.body.status).toBe('expired');
    expect((await events(a.companyId, 'api_key.use_denied', id)).map((e) => e.metadata.reason)).toEqual([
      'expired',
    ]);
  });

  it('revokes with a reason (body or query), at once, and audits it', async () => {
    const { id, key } = await newKey(a.admin.accessToken);
    expectProblem(
      await t.http().delete(`/v1/api-keys/${id}`).auth(a.admin.accessToken, { type: 'bearer' }).send({}),
      400,
      'VALIDATION_FAILED',
    );
    const res = await t
      .http()
      .delete(`/v1/api-keys/${id}`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ reason: 'leaked in a CI log' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'revoked', revokedReason: 'leaked in a CI log' });
    expectProblem(await me(key), 401, 'UNAUTHENTICATED');
    expectProblem(await me(key), 401, 'UNAUTHENTICATED');
    const revoked = await events(a.companyId, 'api_key.revoked', id);
    expect(revoked.map((e) => e.metadata)).toEqual([{ reason: 'leaked in a CI log' }]);
    // Repeated refusals within a minute are counted, not each written.
    expect(await events(a.companyId, 'api_key.use_denied', id)).toHaveLength(1);
    // Revoking again changes nothing.
    const again = await t
      .http()
      .delete(`/v1/api-keys/${id}?reason=again`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(again.body.revokedReason).toBe('leaked in a CI log');

    const other = await newKey(a.admin.accessToken);
    const byQuery = await t
      .http()
      .delete(`/v1/api-keys/${other.id}?reason=${encodeURIComponent('rotated out')}`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(byQuery.body).toMatchObject({ status: 'revoked', revokedReason: 'rotated out' });
  });

  it('rotates: both keys work during the overlap, the old one stops after it, and it rotates once', async () => {
    const original = await newKey(a.admin.accessToken, { name: 'rotating', expiresInDays: 30 });
    const res = await t
      .http()
      .post(`/v1/api-keys/${original.id}/rotate`)
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({ overlapHours: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const next = res.body.key as string;
    expect(next).not.toBe(original.key);
    expect(res.body).toMatchObject({
      name: 'rotating',
      role: 'admin',
      createdBy: a.owner.userId,
      rotatedFromId: original.id,
      previous: { id: original.id, replacedById: res.body.id, status: 'active' },
    });
    const overlapMs = Date.parse(res.body.previous.expiresAt as string) - Date.now();
    expect(overlapMs).toBeGreaterThan(1.9 * 3_600_000);
    expect(overlapMs).toBeLessThanOrEqual(2 * 3_600_000);
    // The new key keeps the old key's lifetime (30 days), from now.
    expect(Date.parse(res.body.expiresAt as string) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);

    expect((await me(original.key)).status).toBe(200);
    expect((await me(next)).status).toBe(200);
    const again = await t
      .http()
      .post(`/v1/api-keys/${original.id}/rotate`)
      .auth(a.owner.accessToken, { type: 'bearer' })
      .send({});
    expectProblem(again, 409, 'CONFLICT');

    // The overlap ends.
    await t.owner.query("update api_keys set expires_at = now() - interval '1 second' where id = $1", [
      original.id,
    ]);
    expectProblem(await me(original.key), 401, 'UNAUTHENTICATED');
    expect((await me(next)).status).toBe(200);
    expect(await events(a.companyId, 'api_key.rotated', original.id)).toHaveLength(1);
    expect(await events(a.companyId, 'api_key.created', res.body.id as string)).toHaveLength(1);

    // Defaults: 24 h of overlap; 0 ends the old key at once; out of range is refused.
    const other = await newKey(a.admin.accessToken);
    const dflt = await t
      .http()
      .post(`/v1/api-keys/${other.id}/rotate`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({});
    expect(Date.parse(dflt.body.previous.expiresAt as string) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    const now = await t
      .http()
      .post(`/v1/api-keys/${dflt.body.id}/rotate`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ overlapHours: 0 });
    expect(now.status).toBe(201);
    expectProblem(await me(dflt.body.key as string), 401, 'UNAUTHENTICATED');
    for (const overlapHours of [-1, 169, 'x']) {
      expectProblem(
        await t
          .http()
          .post(`/v1/api-keys/${now.body.id}/rotate`)
          .auth(a.admin.accessToken, { type: 'bearer' })
          .send({ overlapHours }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('will not let an admin rotate a key above their own role (404, audited), nor rotate a revoked key', async () => {
    const ownerKey = await newKey(a.owner.accessToken, { role: 'owner' });
    const res = await t
      .http()
      .post(`/v1/api-keys/${ownerKey.id}/rotate`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({});
    expectProblem(res, 404, 'NOT_FOUND');
    expect((await events(a.companyId, 'authorization.denied', ownerKey.id)).length).toBe(1);
    // Taking authority away needs none: an admin may revoke it.
    const revoked = await t
      .http()
      .delete(`/v1/api-keys/${ownerKey.id}`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ reason: 'owner left the project' });
    expect(revoked.status).toBe(200);
    expectProblem(
      await t
        .http()
        .post(`/v1/api-keys/${ownerKey.id}/rotate`)
        .auth(a.owner.accessToken, { type: 'bearer' })
        .send({}),
      409,
      'CONFLICT',
    );
  });

  it('answers malformed, mistyped, unknown, revoked and expired keys with one identical 401', async () => {
    const revoked = await newKey(a.admin.accessToken);
    await t
      .http()
      .delete(`/v1/api-keys/${revoked.id}`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ reason: 'test' });
    const expired = await newKey(a.admin.accessToken);
    await t.owner.query("update api_keys set expires_at = now() - interval '1 day' where id = $1", [
      expired.id,
    ]);
    const valid = (await newKey(a.admin.accessToken)).key;
    const last = valid.at(-1) === 'a' ? 'b' : 'a';
    const candidates = [
      'sk_live_',
      'sk_live_short_abc123',
      `${valid}x`,
      `${valid.slice(0, -1)}${last}`, // wrong checksum
      `${valid.slice(0, 10)}${valid[10] === 'a' ? 'b' : 'a'}${valid.slice(11)}`, // a typo in the body
      API_KEY_FORMAT.mint(), // well formed, never issued
      revoked.key,
      expired.key,
    ];
    const bodies = [];
    for (const key of candidates) {
      const res = await me(key);
      expectProblem(res, 401, 'UNAUTHENTICATED');
      bodies.push(withoutRequestId(res.body as Record<string, unknown>));
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });

  it('cannot be created or rotated by a switched-in operator or by an API key', async () => {
    const home = await registerCompany(t, 'Keys Operator Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const operator = (await login(t, home.owner.email)).accessToken;
    const switched = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator, { type: 'bearer' })
      // Write mode, so the refusals below come from the operator's own limits, not the read-only default.
      .send({ reason: 'Ticket 1234: checking their keys', mode: 'write' });
    expect(switched.status).toBe(201);
    const asOperator = switched.body.accessToken as string;
    expectProblem(await create(asOperator, { name: 'x', role: 'member' }), 403, 'FORBIDDEN');
    const target = await newKey(a.admin.accessToken);
    expectProblem(
      await t.http().post(`/v1/api-keys/${target.id}/rotate`).auth(asOperator, { type: 'bearer' }).send({}),
      404,
      'NOT_FOUND',
    );
    // The operator may still look and revoke (incident response).
    expect((await t.http().get('/v1/api-keys').auth(asOperator, { type: 'bearer' })).status).toBe(200);

    const ownerKey = await newKey(a.owner.accessToken, { role: 'owner' });
    expectProblem(await create(ownerKey.key, { name: 'x', role: 'member' }), 403, 'FORBIDDEN');
    expectProblem(
      await t.http().post(`/v1/api-keys/${target.id}/rotate`).auth(ownerKey.key, { type: 'bearer' }).send({}),
      404,
      'NOT_FOUND',
    );
  });

  it('honours Idempotency-Key: a retry mints nothing and answers the first response again, key included', async () => {
    const headers = { 'Idempotency-Key': `create-${Date.now()}` };
    const first = await create(a.admin.accessToken, { name: 'idem', role: 'member' }, headers);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // A client that lost the first response gets it again, secret and all, and the key works.
    const retry = await create(a.admin.accessToken, { name: 'idem', role: 'member' }, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await me(retry.body.key as string)).status).toBe(200);
    const different = await create(a.admin.accessToken, { name: 'other', role: 'member' }, headers);
    expectProblem(different, 409, 'CONFLICT');
    expect(different.body).not.toHaveProperty('resourceId');
    expect(JSON.stringify(different.body)).not.toContain('sk_live_');
    const { rows } = await t.owner.query(
      "select count(*)::int as n from api_keys where company_id = $1 and name in ('idem', 'other')",
      [a.companyId],
    );
    expect(rows[0].n).toBe(1);
    expect((await events(a.companyId, 'api_key.created', first.body.id as string)).length).toBe(1);
    // Kept sealed under the company's data key, bound to its record: the stored text holds no secret.
    const stored = await t.owner.query<{ sealed_response: string }>(
      'select sealed_response from idempotency_records where company_id = $1 and resource_id = $2',
      [a.companyId, first.body.id],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].sealed_response).toMatch(/^v1:/);
    expect(stored.rows[0].sealed_response).not.toContain(first.body.key as string);
    expect(stored.rows[0].sealed_response).not.toContain('sk_live_');
    // Keys are per principal: another admin's identical header is theirs.
    const mine = await create(a.owner.accessToken, { name: 'idem', role: 'member' }, headers);
    expect(mine.status).toBe(201);
    expect(mine.body.id).not.toBe(first.body.id);
    expectProblem(
      await create(a.admin.accessToken, { name: 'x', role: 'member' }, { 'Idempotency-Key': 'bad key' }),
      400,
      'VALIDATION_FAILED',
    );
    // Concurrent duplicates: one key is minted, and every request answers it.
    const race = { 'Idempotency-Key': `race-${Date.now()}` };
    const results = await Promise.all(
      [1, 2, 3].map(() => create(a.admin.accessToken, { name: 'race', role: 'member' }, race)),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(new Set(results.map((r) => r.body.key as string)).size).toBe(1);
    const raced = await t.owner.query(
      "select count(*)::int as n from api_keys where company_id = $1 and name = 'race'",
      [a.companyId],
    );
    expect(raced.rows[0].n).toBe(1);
  });

  it('forgets the kept response when the key is revoked or rotated: a retry then answers 409 naming it', async () => {
    const sealedOf = async (id: string) =>
      (
        await t.owner.query<{ sealed_response: string | null }>(
          'select sealed_response from idempotency_records where company_id = $1 and resource_id = $2',
          [a.companyId, id],
        )
      ).rows.map((r) => r.sealed_response);
    for (const retire of ['revoke', 'rotate'] as const) {
      const headers = { 'Idempotency-Key': `${retire}-${Date.now()}` };
      const first = await create(a.admin.accessToken, { name: `kept ${retire}`, role: 'member' }, headers);
      expect(first.status).toBe(201);
      expect((await sealedOf(first.body.id as string))[0]).toMatch(/^v1:/);
      const retired =
        retire === 'revoke'
          ? await t
              .http()
              .delete(`/v1/api-keys/${first.body.id}`)
              .auth(a.admin.accessToken, { type: 'bearer' })
              .send({ reason: 'leaked' })
          : await t
              .http()
              .post(`/v1/api-keys/${first.body.id}/rotate`)
              .auth(a.admin.accessToken, { type: 'bearer' })
              .send({});
      expect(retired.status).toBeLessThan(300);
      expect(await sealedOf(first.body.id as string)).toEqual([null]);
      const retry = await create(a.admin.accessToken, { name: `kept ${retire}`, role: 'member' }, headers);
      expectProblem(retry, 409, 'CONFLICT');
      expect(retry.body).toMatchObject({ resourceType: 'ApiKey', resourceId: first.body.id });
      expect(JSON.stringify(retry.body)).not.toContain('sk_live_');
    }
  });

  it('deletes idempotency records, and the responses they keep, once the 24 h window has passed', async () => {
    const headers = { 'Idempotency-Key': `expiring-${Date.now()}` };
    const old = await create(a.admin.accessToken, { name: 'expiring', role: 'member' }, headers);
    const fresh = await create(
      a.admin.accessToken,
      { name: 'fresh', role: 'member' },
      {
        'Idempotency-Key': `fresh-${Date.now()}`,
      },
    );
    expect([old.status, fresh.status]).toEqual([201, 201]);
    const records = async () =>
      (
        await t.owner.query<{ resource_id: string }>(
          'select resource_id from idempotency_records where company_id = $1 and resource_id = any($2)',
          [a.companyId, [old.body.id, fresh.body.id]],
        )
      ).rows.map((r) => r.resource_id);
    await t.owner.query(
      "update idempotency_records set created_at = now() - interval '24 hours 1 minute' where resource_id = $1",
      [old.body.id],
    );
    expect(await t.app.get(IdempotencyService).purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await records()).toEqual([fresh.body.id]);
    // The key is free again: the same header now creates a new key.
    const again = await create(a.admin.accessToken, { name: 'expiring', role: 'member' }, headers);
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(old.body.id);
  });

  it('records lastUsedAt in batches, not one write per request', async () => {
    const recorder = t.app.get(ApiKeyUsageRecorder);
    // Hold back the recorder's own timer for the length of the test, so that "not yet written" is observable.
    const timer = vi.spyOn(recorder, 'flush').mockResolvedValue(undefined);
    try {
      const { id, key } = await newKey(a.admin.accessToken);
      for (let i = 0; i < 3; i++) expect((await me(key)).status).toBe(200);
      const before = await t.http().get(`/v1/api-keys/${id}`).auth(a.admin.accessToken, { type: 'bearer' });
      expect(before.body.lastUsedAt).toBeNull();
      timer.mockRestore();
      await recorder.flush();
      const after = await t.http().get(`/v1/api-keys/${id}`).auth(a.admin.accessToken, { type: 'bearer' });
      expect(after.body.lastUsedAt).not.toBeNull();
      expect(Date.parse(after.body.lastUsedAt as string)).toBeLessThanOrEqual(Date.now());
    } finally {
      timer.mockRestore();
    }
  });

  it('answers 403 on the collection and 404 on items for members', async () => {
    const { id } = await newKey(a.admin.accessToken);
    expectProblem(
      await t.http().get('/v1/api-keys').auth(a.member.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await t.http().get(`/v1/api-keys/${id}`).auth(a.manager.accessToken, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await t
        .http()
        .delete(`/v1/api-keys/${id}`)
        .auth(a.member.accessToken, { type: 'bearer' })
        .send({ reason: 'x' }),
      404,
      'NOT_FOUND',
    );
  });

  it("answers another company's key ids exactly like missing ones, on every key route", async () => {
    const { id, key } = await newKey(a.admin.accessToken);
    for (const actor of [b.admin, b.owner]) {
      const routes = (target: string) => [
        t.http().get(`/v1/api-keys/${target}`).auth(actor.accessToken, { type: 'bearer' }),
        t
          .http()
          .delete(`/v1/api-keys/${target}`)
          .auth(actor.accessToken, { type: 'bearer' })
          .send({ reason: 'cross-tenant probe' }),
        t.http().post(`/v1/api-keys/${target}/rotate`).auth(actor.accessToken, { type: 'bearer' }).send({}),
      ];
      const foreign = await Promise.all(routes(id));
      const missing = await Promise.all(routes(MISSING_ID));
      foreign.forEach((res, i) => {
        expectProblem(res, 404, 'NOT_FOUND');
        expect(withoutRequestId(res.body as Record<string, unknown>)).toEqual(
          withoutRequestId(missing[i].body as Record<string, unknown>),
        );
        expect(JSON.stringify(res.body)).not.toContain(a.companyId);
      });
      const list = await t.http().get('/v1/api-keys?limit=100').auth(actor.accessToken, { type: 'bearer' });
      expect((list.body.data as { id: string }[]).map((k) => k.id)).not.toContain(id);
    }
    // A's key is untouched and still works; B's key never sees A.
    expect((await me(key)).status).toBe(200);
    const bKey = await newKey(b.admin.accessToken);
    expectProblem(
      await t.http().get(`/v1/api-keys/${id}`).auth(bKey.key, { type: 'bearer' }),
      404,
      'NOT_FOUND',
    );
  });

  it('the by-hash policy shows the app role exactly the one row whose hash it presents', async () => {
    const keyA = await newKey(a.admin.accessToken);
    await newKey(b.admin.accessToken);
    const client = await t.appRole.connect();
    try {
      const visible = async (hash: string | null) => {
        await client.query('begin');
        if (hash !== null) await client.query(`select set_config('${SESSION.credential}', $1, true)`, [hash]);
        const { rows } = await client.query<{ id: string }>('select id from api_keys');
        await client.query('commit');
        return rows.map((r) => r.id);
      };
      expect(await visible(sha256(keyA.key))).toEqual([keyA.id]);
      expect(await visible(sha256(API_KEY_FORMAT.mint()))).toEqual([]);
      expect(await visible(null)).toEqual([]);
      // Read-only: the credential setting does not let the row be changed.
      await client.query('begin');
      await client.query(`select set_config('${SESSION.credential}', $1, true)`, [sha256(keyA.key)]);
      const updated = await client.query("update api_keys set role = 'owner' where id = $1", [keyA.id]);
      await client.query('rollback');
      expect(updated.rowCount).toBe(0);
    } finally {
      client.release();
    }
  });
});
