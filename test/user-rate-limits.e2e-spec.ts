import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem } from './harness/problem.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/**
 * Per-user rate limits (issue 20, item 3): `userRateLimitPerMinute` counts each person across their sessions, API
 * keys and applications in a company, on top of the company limit, in counters every instance shares (PostgreSQL
 * here; Redis when REDIS_URL is set).
 */
describe('per-user rate limits', () => {
  let t1: TestApp;
  let t2: TestApp;

  beforeAll(async () => {
    // Two instances of the application on the same database.
    [t1, t2] = await Promise.all([startTestApp(), startTestApp()]);
  });
  afterAll(async () => {
    await Promise.all([t1?.close(), t2?.close()]);
  });

  const patch = (t: TestApp, s: CompanySession, token: string, body: Record<string, unknown>) =>
    t.http().patch(`/v1/companies/${s.companyId}`).auth(token, { type: 'bearer' }).send(body);
  const me = (t: TestApp, token: string) => t.http().get('/v1/me').auth(token, { type: 'bearer' });

  async function apiKey(t: TestApp, token: string): Promise<string> {
    const res = await t
      .http()
      .post('/v1/api-keys')
      .auth(token, { type: 'bearer' })
      .send({ name: 'ci', role: 'member' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.key as string;
  }

  async function applicationToken(t: TestApp, token: string): Promise<string> {
    const created = await t
      .http()
      .post('/v1/applications')
      .auth(token, { type: 'bearer' })
      .send({ name: 'integration' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await t.http().post('/v1/oauth/token').send({
      grant_type: 'client_credentials',
      client_id: created.body.clientId,
      client_secret: created.body.clientSecret,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.access_token as string;
  }

  it('is a company setting for admins: validated, shown, audited, null by default and clearable', async () => {
    const c = await createCompanySession(t1, 'User limits settings');
    const initial = await t1.http().get(`/v1/companies/${c.companyId}`).auth(c.member.accessToken, {
      type: 'bearer',
    });
    expect(initial.body.userRateLimitPerMinute).toBeNull();
    // Without a per-user limit only the company's policy applies.
    expect(initial.headers['ratelimit-policy']).toMatch(/^"company";q=\d+;w=60$/);

    for (const bad of [0, 100_001, 2.5, 'ten', true]) {
      expectProblem(
        await patch(t1, c, c.admin.accessToken, { userRateLimitPerMinute: bad }),
        400,
        'VALIDATION_FAILED',
      );
    }
    for (const role of ['manager', 'member'] as const) {
      expectProblem(
        await patch(t1, c, c.as(role).accessToken, { userRateLimitPerMinute: 100 }),
        403,
        'FORBIDDEN',
      );
    }
    const set = await patch(t1, c, c.admin.accessToken, { userRateLimitPerMinute: 100 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.userRateLimitPerMinute).toBe(100);
    const audit = await t1.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'company.updated'",
      [c.companyId],
    );
    expect(audit.rows.at(-1)?.metadata.changes.userRateLimitPerMinute).toEqual({ from: null, to: 100 });

    const shown = await t1.http().get(`/v1/companies/${c.companyId}`).auth(c.member.accessToken, {
      type: 'bearer',
    });
    expect(shown.body.userRateLimitPerMinute).toBe(100);
    expect(shown.headers['ratelimit-policy']).toMatch(/^"company";q=\d+;w=60, "user";q=100;w=60$/);

    const cleared = await patch(t1, c, c.owner.accessToken, { userRateLimitPerMinute: null });
    expect(cleared.body.userRateLimitPerMinute).toBeNull();
    const after = await me(t1, c.member.accessToken);
    expect(after.headers['ratelimit-policy']).toMatch(/^"company";q=\d+;w=60$/);
  });

  it("counts a person across their session, API keys and applications on both instances; others don't share it; null lifts it", async () => {
    const c = await createCompanySession(t1, 'User limits shared');
    // The person under test is the owner (applications are created by owners).
    const person = c.owner.accessToken;
    const [key1, key2] = [await apiKey(t1, person), await apiKey(t1, person)];
    const app = await applicationToken(t1, person);
    // Set on the first instance before the second has read the company (its settings cache is per process).
    expect((await patch(t1, c, c.admin.accessToken, { userRateLimitPerMinute: 6 })).status).toBe(200);

    const mine: [TestApp, string][] = [
      [t1, person],
      [t2, key1],
      [t1, key2],
      [t2, app],
      [t2, person],
      [t1, key1],
    ];
    for (const [i, [t, token]] of mine.entries()) {
      const res = await me(t, token);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers['ratelimit-policy']).toMatch(/^"company";q=\d+;w=60, "user";q=6;w=60$/);
      // The person's policy is the nearest to its limit: it names it.
      expect(res.headers.ratelimit).toMatch(new RegExp(`^"user";r=${5 - i};t=\\d+$`));
      expect(res.headers['ratelimit-remaining']).toBe(String(5 - i));
    }
    for (const [t, token] of [
      [t2, key2],
      [t1, app],
    ] as const) {
      const refused = await me(t, token);
      expectProblem(refused, 429, 'RATE_LIMITED');
      expect(refused.body.policy).toBe('user');
      expect(refused.body.detail).toMatch(/from you/);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers.ratelimit).toBe(`"user";r=0;t=${retryAfter}`);
    }

    // Another person of the same company has a counter of their own, on either instance.
    const other = await me(t2, c.member.accessToken);
    expect(other.status).toBe(200);
    expect(other.headers.ratelimit).toMatch(/^"user";r=5;t=\d+$/);
    const admin = await me(t1, c.admin.accessToken);
    expect(admin.headers.ratelimit).toMatch(/^"user";r=5;t=\d+$/);

    // null lifts the per-person limit (this instance drops its cached settings at once).
    expect((await patch(t1, c, c.admin.accessToken, { userRateLimitPerMinute: null })).status).toBe(200);
    const lifted = await me(t1, key2);
    expect(lifted.status).toBe(200);
    expect(lifted.headers['ratelimit-policy']).toMatch(/^"company";q=\d+;w=60$/);
    expect(lifted.headers.ratelimit).toMatch(/^"company";r=\d+;t=\d+$/);
  });

  it('keeps the company limit on top: it refuses when spent, names itself when nearest, and counts across instances', async () => {
    const c = await createCompanySession(t1, 'User limits company');
    const set = await patch(t1, c, c.admin.accessToken, {
      rateLimitPerMinute: 10,
      userRateLimitPerMinute: 6,
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200); // company: 1 of 10

    for (let i = 0; i < 6; i++) expect((await me(t1, c.owner.accessToken)).status).toBe(200); // 7 of 10
    const ownerRefused = await me(t1, c.owner.accessToken);
    expectProblem(ownerRefused, 429, 'RATE_LIMITED');
    expect(ownerRefused.body.policy).toBe('user'); // not counted against the company: still 7 of 10

    const member = c.member.accessToken;
    const first = await me(t2, member); // 8 of 10; the member: 1 of 6
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"company";q=10;w=60, "user";q=6;w=60');
    expect(first.headers.ratelimit).toMatch(/^"company";r=2;t=\d+$/);
    expect(first.headers['ratelimit-limit']).toBe('10');
    expect((await me(t1, member)).headers.ratelimit).toMatch(/^"company";r=1;t=\d+$/);
    expect((await me(t2, member)).headers.ratelimit).toMatch(/^"company";r=0;t=\d+$/);

    const refused = await me(t1, member); // the member is at 4 of 6: the company refuses
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(refused.body.policy).toBe('company');
    expect(refused.body.detail).toMatch(/company/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers.ratelimit).toMatch(/^"company";r=0;t=\d+$/);
    // Another company is not affected.
    const d = await createCompanySession(t2, 'User limits other company');
    expect((await me(t2, d.member.accessToken)).status).toBe(200);
  });
  it('counts a wide limit in memory between batches: the database and the other instance learn the counts', async () => {
    const c = await createCompanySession(t1, 'User limits batches');
    expect((await patch(t1, c, c.admin.accessToken, { rateLimitPerMinute: 100 })).status).toBe(200);
    let remaining = -1;
    for (let i = 0; i < 30; i++) {
      const res = await me(t1, c.member.accessToken);
      expect(res.status).toBe(200);
      const left = Number(res.headers['ratelimit-remaining']);
      if (remaining >= 0) expect(left).toBe(remaining - 1); // one instance sees its own counts at once
      remaining = left;
    }
    // Within a batch interval (100 ms) the counts reach the database…
    await new Promise((r) => setTimeout(r, 300));
    const row = await t1.owner.query('select count from rate_limits.counters where key = $1', [
      `company:${c.companyId}`,
    ]);
    expect(row.rows[0]?.count).toBe(100 - remaining);
    // …and the other instance admits exactly what is left of the limit, the last tenth counted request by request.
    let admitted = 0;
    for (;;) {
      const res = await me(t2, c.member.accessToken);
      if (res.status === 429) break;
      expect(res.status).toBe(200);
      admitted++;
    }
    expect(admitted).toBe(remaining);
  });
});

describe('per-user rate limits with Redis', () => {
  it('shares a person’s counter between two instances through Redis', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
    const [t1, t2] = await Promise.all([startTestApp(env), startTestApp(env)]);
    try {
      // Redis windows are aligned to the minute: keep the few requests below inside one.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 61_000 - intoMinute));
      const c = await createCompanySession(t1, 'User limits redis');
      expect(
        (
          await t1
            .http()
            .patch(`/v1/companies/${c.companyId}`)
            .auth(c.owner.accessToken, { type: 'bearer' })
            .send({ userRateLimitPerMinute: 3 })
        ).status,
      ).toBe(200);
      const me = (t: TestApp) => t.http().get('/v1/me').auth(c.admin.accessToken, { type: 'bearer' });
      for (const [i, t] of [t1, t2, t1].entries()) {
        const res = await me(t);
        expect(res.status).toBe(200);
        expect(res.headers.ratelimit).toMatch(new RegExp(`^"user";r=${2 - i};t=\\d+$`));
      }
      const refused = await me(t2);
      expectProblem(refused, 429, 'RATE_LIMITED');
      expect(refused.body.policy).toBe('user');
      expect((await t2.http().get('/v1/me').auth(c.member.accessToken, { type: 'bearer' })).status).toBe(200);
    } finally {
      await Promise.all([t1.close(), t2.close()]);
    }
  });
});
