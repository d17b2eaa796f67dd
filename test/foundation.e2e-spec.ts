import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem } from './harness/problem.js';
import { registerCompany } from './harness/session.js';

describe('foundation: health, errors, request ids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers liveness and readiness (database reachable, every migration applied)', async () => {
    const live = await t.http().get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.migrations).toBeGreaterThan(0);
  });

  it('reports not ready when a migration is missing from the database', async () => {
    const { rows } = await t.owner.query<{ name: string }>(
      'select name from mikro_orm_migrations order by id desc limit 1',
    );
    const last = rows[0].name;
    await t.owner.query('delete from mikro_orm_migrations where name = $1', [last]);
    try {
      const ready = await t.http().get('/health/ready');
      expectProblem(ready, 503, 'INTERNAL');
      expect(ready.body.detail).toContain('migration');
    } finally {
      await t.owner.query('insert into mikro_orm_migrations (name, executed_at) values ($1, now())', [last]);
    }
  });

  it('echoes a well-formed X-Request-Id and generates one otherwise', async () => {
    const echoed = await t.http().get('/health/live').set('X-Request-Id', 'client-req-42');
    expect(echoed.headers['x-request-id']).toBe('client-req-42');
    const longest = 'r'.repeat(128);
    expect((await t.http().get('/health/live').set('X-Request-Id', longest)).headers['x-request-id']).toBe(
      longest,
    );
    for (const bad of ['bad id with spaces', 'r'.repeat(129), 'é-unicode', 'a\\nb', '"quoted"', '']) {
      const generated = await t.http().get('/health/live').set('X-Request-Id', bad);
      expect(generated.headers['x-request-id'], bad).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('sends rate-limit headers on every response', async () => {
    for (const res of [await t.http().get('/health/live'), await t.http().get('/v1/nope')]) {
      expect(res.headers['ratelimit-limit']).toBeDefined();
      expect(res.headers['ratelimit-remaining']).toBeDefined();
      expect(res.headers['ratelimit-reset']).toBeDefined();
      // draft-ietf-httpapi-ratelimit-headers: the policy, and what is left of it.
      expect(res.headers['ratelimit-policy']).toMatch(/^"ip";q=\d+;w=60$/);
      expect(res.headers.ratelimit).toMatch(/^"ip";r=\d+;t=\d+$/);
    }
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t.http().post('/v1/auth/login').set('content-type', 'application/json').send('{');
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('answers a 5 MiB body with 413', async () => {
    const res = await t
      .http()
      .post('/v1/auth/login')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ email: 'a'.repeat(5 * 1024 * 1024) }));
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it("answers a too large body with a 413 that Node's fetch can read (the rest is drained, not cut off)", async () => {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    /** 5 MiB with a Content-Length, or 12 MiB streamed (chunked: the server learns the size while reading). */
    const bodies = () => [
      Buffer.concat(Array.from({ length: 5 }, () => mib)),
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 12; i++) controller.enqueue(mib);
          controller.close();
        },
      }),
    ];
    for (let round = 0; round < 3; round++) {
      for (const body of bodies()) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          duplex: 'half',
        });
        expect(res.status).toBe(413);
        expect(((await res.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
      }
    }
    // The server still serves the next request.
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  });

  it('answers a wrong content type with 415', async () => {
    const res = await t.http().post('/v1/auth/login').set('content-type', 'text/plain').send('hello');
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses deeply nested JSON and prototype keys', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expectProblem(
      await t.http().post('/v1/auth/login').set('content-type', 'application/json').send(deep),
      400,
      'VALIDATION_FAILED',
    );
    const proto = '{"email":"a@b.c","password":"x","__proto__":{"admin":true}}';
    expectProblem(
      await t.http().post('/v1/auth/login').set('content-type', 'application/json').send(proto),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('answers unknown routes and bad UUIDs with 4xx problems, never 500', async () => {
    expectProblem(await t.http().get('/v1/anything/not-a-uuid'), 404, 'NOT_FOUND');
    expectProblem(await t.http().delete('/v1/nothing-here'), 404, 'NOT_FOUND');
    const res = await t.http().post('/v1/platform/companies/not-a-uuid/switch').send({ reason: 'x' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('lists every invalid field and rejects undeclared ones', async () => {
    const res = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: 'nope', password: 'short', companyId: 'x' });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'password', 'name', 'companyName', 'companyId']));
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await t.http().get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.body.components.securitySchemes)).toEqual(
      expect.arrayContaining(['bearer', 'apiKey']),
    );
    const ui = await t.http().get('/docs');
    expect(ui.status).toBeLessThan(400);
  });

  it("answers 429 with Retry-After and RateLimit-* headers once a company's requests per minute are spent", async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const busy = await registerCompany(limited, 'Foundation Busy');
      const quiet = await registerCompany(limited, 'Foundation Quiet');
      const me = (token: string) => limited.http().get('/v1/me').auth(token, { type: 'bearer' });
      for (const remaining of ['2', '1', '0']) {
        const res = await me(busy.owner.accessToken);
        expect(res.status).toBe(200);
        expect(res.headers['ratelimit-limit']).toBe('3');
        expect(res.headers['ratelimit-remaining']).toBe(remaining);
        expect(res.headers['ratelimit-policy']).toBe('"company";q=3;w=60');
        expect(res.headers.ratelimit).toMatch(new RegExp(`^"company";r=${remaining};t=\\d+$`));
      }
      const refused = await me(busy.owner.accessToken);
      expectProblem(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers['ratelimit-limit']).toBe('3');
      expect(refused.headers['ratelimit-remaining']).toBe('0');
      expect(refused.headers['ratelimit-reset']).toBe(String(retryAfter));
      expect(refused.headers.ratelimit).toBe(`"company";r=0;t=${retryAfter}`);
      // The budget is the company's: another company is not affected.
      const other = await me(quiet.owner.accessToken);
      expect(other.status).toBe(200);
      expect(other.headers['ratelimit-remaining']).toBe('2');
    } finally {
      await limited.close();
    }
  });
});
