import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Response } from 'supertest';
import { newId } from '../src/common/ids.js';
import {
  CONNECTOR_INVOKER,
  ToolCallError,
  type ConnectorInvoker,
  type ToolCall,
} from '../src/connectors/connector-invoker.js';
import { Connector } from '../src/connectors/connector.entity.js';
import { KeyringService, SecretUnavailableError } from '../src/crypto/keyring.service.js';
import type { TenantContext } from '../src/tenancy/request-store.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { sendJson, startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import { createCompanySession, registerCompany, type Actor, type CompanySession } from './harness/session.js';

const RESPONSE_FIELDS = [
  'authScheme',
  'createdAt',
  'endpointUrl',
  'hasSecret',
  'id',
  'secretSetAt',
  'toolId',
  'updatedAt',
].sort();

/** Every form a secret could leak in: as sent, base64, base64url, hex. */
function forms(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  return [secret, b.toString('base64'), b.toString('base64url'), b.toString('hex')];
}

const newSecret = (tag: string) => `${tag}_${randomBytes(16).toString('hex')}`;

describe('connectors', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let endpoint: TestEndpoint;
  let tenancy: TenancyService;
  let invoker: ConnectorInvoker;
  /** Every secret this suite ever sent, and every response body it received: checked against each other at the end. */
  const secrets: string[] = [];
  const bodies: string[] = [];

  const record = async (pending: Promise<Response> | Response): Promise<Response> => {
    const res = await pending;
    bodies.push(res.text ?? '');
    return res;
  };
  const as = (actor: Actor) => ({
    get: (path: string) => record(t.http().get(path).auth(actor.accessToken, { type: 'bearer' })),
    post: (path: string, body?: object) =>
      record(t.http().post(path).auth(actor.accessToken, { type: 'bearer' }).send(body)),
    patch: (path: string, body: object) =>
      record(t.http().patch(path).auth(actor.accessToken, { type: 'bearer' }).send(body)),
    delete: (path: string) => record(t.http().delete(path).auth(actor.accessToken, { type: 'bearer' })),
  });
  const ctxOf = (s: CompanySession): TenantContext => ({
    companyId: s.companyId,
    principalId: 'run-engine',
    principalType: 'system',
    role: 'member',
    userId: undefined,
    actingUserId: 'run-engine',
    operatorId: undefined,
  });
  const invokeAs = (s: CompanySession, call: Partial<ToolCall> & { toolId: string }) =>
    tenancy.run(ctxOf(s), () =>
      invoker.invoke({ input: { q: 1 }, idempotencyKey: `idem-${newId()}`, ...call }),
    );
  const invokeError = async (s: CompanySession, call: Partial<ToolCall> & { toolId: string }) => {
    try {
      await invokeAs(s, call);
    } catch (e) {
      expect(e).toBeInstanceOf(ToolCallError);
      return e as ToolCallError;
    }
    throw new Error('expected a ToolCallError');
  };
  const create = async (actor: Actor, body: Record<string, unknown>) => {
    if (typeof body.secret === 'string') secrets.push(body.secret);
    const res = await as(actor).post('/v1/connectors', body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; toolId: string; hasSecret: boolean; secretSetAt: string | null };
  };
  const countRows = async (companyId: string) =>
    (await t.owner.query('select count(*)::int as n from connectors where company_id = $1', [companyId]))
      .rows[0].n as number;

  beforeAll(async () => {
    t = await startTestApp();
    endpoint = await startTestEndpoint();
    a = await createCompanySession(t, 'Connectors A');
    b = await createCompanySession(t, 'Connectors B');
    tenancy = t.app.get(TenancyService);
    invoker = t.app.get<ConnectorInvoker>(CONNECTOR_INVOKER);
  });
  afterAll(async () => {
    await endpoint.close();
    await t.close();
  });

  describe('CRUD and roles', () => {
    it('lets admins and owners create; the response shows hasSecret, never the secret', async () => {
      const secret = newSecret('crud');
      const byAdmin = await create(a.admin, {
        toolId: 'crud.admin',
        endpointUrl: endpoint.url('/crud'),
        authScheme: 'bearer',
        secret,
      });
      expect(Object.keys(byAdmin).sort()).toEqual(RESPONSE_FIELDS);
      expect(byAdmin).toMatchObject({ toolId: 'crud.admin', authScheme: 'bearer', hasSecret: true });
      expect(Date.parse(byAdmin.secretSetAt!)).not.toBeNaN();
      const byOwner = await create(a.owner, {
        toolId: 'crud.owner',
        endpointUrl: endpoint.url('/crud'),
        authScheme: 'none',
      });
      expect(byOwner).toMatchObject({ hasSecret: false, secretSetAt: null });
      const events = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'connector.created' and target_id = $2",
        [a.companyId, byAdmin.id],
      );
      expect(events.rows[0].metadata).toMatchObject({
        toolId: 'crud.admin',
        hasSecret: true,
        authScheme: 'bearer',
      });
    });

    it('lets every role read (list, filter, paginate, get)', async () => {
      for (const role of ['owner', 'admin', 'manager', 'member'] as const) {
        const list = await as(a.as(role)).get('/v1/connectors');
        expect(list.status, role).toBe(200);
        const ids = (list.body.data as { toolId: string }[]).map((c) => c.toolId);
        expect(ids).toEqual(expect.arrayContaining(['crud.admin', 'crud.owner']));
        for (const item of list.body.data as object[])
          expect(Object.keys(item).sort()).toEqual(RESPONSE_FIELDS);
      }
      const filtered = await as(a.member).get('/v1/connectors?toolId=crud.owner');
      expect(filtered.body.data.map((c: { toolId: string }) => c.toolId)).toEqual(['crud.owner']);
      const first = await as(a.member).get('/v1/connectors?limit=1');
      expect(first.body.data).toHaveLength(1);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await as(a.member).get(`/v1/connectors?limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
      // Newest first.
      expect(second.body.data[0].id < first.body.data[0].id).toBe(true);
      const one = await as(a.member).get(`/v1/connectors/${first.body.data[0].id}`);
      expect(one.status).toBe(200);
      expect(Object.keys(one.body).sort()).toEqual(RESPONSE_FIELDS);
      expectProblem(await as(a.member).get('/v1/connectors?toolId=NOT_VALID'), 400, 'VALIDATION_FAILED');
    });

    it('refuses writes below admin: 403 on the collection, 404 (audited) on items', async () => {
      const target = await create(a.admin, {
        toolId: 'roles.target',
        endpointUrl: endpoint.url('/r'),
        authScheme: 'none',
      });
      const missing = await as(a.admin).get(`/v1/connectors/${newId()}`);
      expectProblem(missing, 404, 'NOT_FOUND');
      for (const role of ['manager', 'member'] as const) {
        const actor = a.as(role);
        expectProblem(
          await as(actor).post('/v1/connectors', {
            toolId: `roles.${role}`,
            endpointUrl: endpoint.url('/'),
            authScheme: 'none',
          }),
          403,
          'FORBIDDEN',
        );
        for (const res of [
          await as(actor).patch(`/v1/connectors/${target.id}`, { endpointUrl: endpoint.url('/moved') }),
          await as(actor).delete(`/v1/connectors/${target.id}`),
          await as(actor).post(`/v1/connectors/${target.id}/test`, {}),
        ]) {
          expectProblem(res, 404, 'NOT_FOUND');
          expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
        }
      }
      const denied = await t.owner.query(
        "select count(*)::int as n from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2",
        [a.companyId, target.id],
      );
      expect(denied.rows[0].n).toBe(6);
      const still = await as(a.admin).get(`/v1/connectors/${target.id}`);
      expect(still.body.endpointUrl).toBe(endpoint.url('/r'));
      expect(endpoint.on('/r')).toHaveLength(0);
    });

    it("answers another company's ids exactly like missing ones, and never shows their data", async () => {
      const secret = newSecret('foreign');
      const mine = await create(a.admin, {
        toolId: 'walls.lookup',
        endpointUrl: endpoint.url('/walls-a'),
        authScheme: 'bearer',
        secret,
      });
      const missing = await as(b.admin).get(`/v1/connectors/${newId()}`);
      for (const actor of [b.owner, b.admin, b.member]) {
        for (const res of [
          await as(actor).get(`/v1/connectors/${mine.id}`),
          await as(actor).patch(`/v1/connectors/${mine.id}`, {
            endpointUrl: endpoint.url('/stolen'),
            secret: null,
          }),
          await as(actor).delete(`/v1/connectors/${mine.id}`),
          await as(actor).post(`/v1/connectors/${mine.id}/test`, {}),
        ]) {
          expectProblem(res, 404, 'NOT_FOUND');
          expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
          expect(res.text).not.toContain('walls');
        }
      }
      const list = await as(b.admin).get('/v1/connectors?toolId=walls.lookup');
      expect(list.body.data).toEqual([]);
      expect(endpoint.on('/walls-a')).toHaveLength(0);
      const after = await as(a.admin).get(`/v1/connectors/${mine.id}`);
      expect(after.body).toMatchObject({ endpointUrl: endpoint.url('/walls-a'), hasSecret: true });
    });

    it('keeps tool ids unique per company (409) while two companies bind the same one apart', async () => {
      await create(a.admin, {
        toolId: 'crm.lookup',
        endpointUrl: endpoint.url('/crm-a'),
        authScheme: 'none',
      });
      const before = await countRows(a.companyId);
      expectProblem(
        await as(a.admin).post('/v1/connectors', {
          toolId: 'crm.lookup',
          endpointUrl: endpoint.url('/other'),
          authScheme: 'none',
        }),
        409,
        'CONFLICT',
      );
      expect(await countRows(a.companyId)).toBe(before);
      await create(b.admin, {
        toolId: 'crm.lookup',
        endpointUrl: endpoint.url('/crm-b'),
        authScheme: 'none',
      });
      expect((await invokeAs(a, { toolId: 'crm.lookup' })).output).toEqual({ ok: true, path: '/crm-a' });
      expect((await invokeAs(b, { toolId: 'crm.lookup' })).output).toEqual({ ok: true, path: '/crm-b' });
      // Renaming onto a taken tool id is a conflict too.
      const other = await create(a.admin, {
        toolId: 'crm.other',
        endpointUrl: endpoint.url('/x'),
        authScheme: 'none',
      });
      expectProblem(
        await as(a.admin).patch(`/v1/connectors/${other.id}`, { toolId: 'crm.lookup' }),
        409,
        'CONFLICT',
      );
    });

    it('refuses bad input with a clear 400, stores nothing and never echoes the secret', async () => {
      const secret = newSecret('bad');
      secrets.push(secret);
      const valid = { toolId: 'bad.input', endpointUrl: endpoint.url('/bad'), authScheme: 'bearer', secret };
      const before = await countRows(a.companyId);
      const cases: [Record<string, unknown>, string][] = [
        [{ endpointUrl: 'javascript:alert(1)' }, 'endpointUrl'],
        [{ endpointUrl: 'file:///etc/passwd' }, 'endpointUrl'],
        [{ endpointUrl: 'ftp://example.com/x' }, 'endpointUrl'],
        [{ endpointUrl: 'not a url' }, 'endpointUrl'],
        [{ endpointUrl: '/relative/path' }, 'endpointUrl'],
        [{ endpointUrl: `https://user:${secret}@example.com/` }, 'endpointUrl'],
        [{ endpointUrl: `https://example.com/${'a'.repeat(2050)}` }, 'endpointUrl'],
        [{ endpointUrl: 42 }, 'endpointUrl'],
        [{ toolId: 'CRM.Lookup' }, 'toolId'],
        [{ toolId: 'nodots' }, 'toolId'],
        [{ toolId: `a.${'b'.repeat(100)}` }, 'toolId'],
        [{ authScheme: 'oauth' }, 'authScheme'],
        [{ authScheme: 'header:Host' }, 'authScheme'],
        [{ authScheme: 'header:bad name' }, 'authScheme'],
        [{ authScheme: 'basic' }, 'secret'],
        [{ authScheme: 'none' }, 'secret'],
        [{ secret: `${secret}\r\nX-Injected: yes` }, 'secret'],
        [{ secret: `${secret}${'x'.repeat(8192)}` }, 'secret'],
        [{ secret: 12345 }, 'secret'],
        [{ companyId: b.companyId }, 'companyId'],
        [{ hasSecret: true }, 'hasSecret'],
      ];
      for (const [override, field] of cases) {
        const res = await as(a.admin).post('/v1/connectors', { ...valid, ...override });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(
          (res.body.errors as { field: string }[]).map((e) => e.field),
          JSON.stringify(override),
        ).toContain(field);
      }
      const huge = await as(a.admin).post('/v1/connectors', { ...valid, secret: 'y'.repeat(8193) });
      expectProblem(huge, 400, 'VALIDATION_FAILED');
      expect(huge.text).not.toContain('yyyyyyyy');
      expect(await countRows(a.companyId)).toBe(before);
      // Exactly 8 KiB is accepted.
      const max = 'z'.repeat(8192);
      secrets.push(max);
      await create(a.admin, { ...valid, secret: max });
    });
  });

  describe('updates and the write-only secret', () => {
    it('sets, replaces, keeps and clears the secret; every change is audited without it', async () => {
      const first = newSecret('first');
      const c = await create(a.admin, {
        toolId: 'patch.me',
        endpointUrl: endpoint.url('/patch'),
        authScheme: 'bearer',
        secret: first,
      });
      const url = `/v1/connectors/${c.id}`;

      const kept = await as(a.admin).patch(url, { endpointUrl: endpoint.url('/patch/v2') });
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({
        hasSecret: true,
        secretSetAt: c.secretSetAt,
        endpointUrl: endpoint.url('/patch/v2'),
      });

      const second = newSecret('second');
      secrets.push(second);
      const replaced = await as(a.admin).patch(url, { secret: second });
      expect(replaced.body.hasSecret).toBe(true);
      expect(replaced.body.secretSetAt >= c.secretSetAt!).toBe(true);
      await as(a.admin).post(`${url}/test`, {});
      expect(endpoint.on('/patch/v2').at(-1)?.headers.authorization).toBe(`Bearer ${second}`);

      const cleared = await as(a.admin).patch(url, { secret: null });
      expect(cleared.body).toMatchObject({ hasSecret: false, secretSetAt: null });
      const { rows } = await t.owner.query('select secret_ciphertext from connectors where id = $1', [c.id]);
      expect(rows[0].secret_ciphertext).toBeNull();
      // Bearer without a secret: the call is refused rather than sent unauthenticated.
      const test = await as(a.admin).post(`${url}/test`, {});
      expect(test.body).toMatchObject({ ok: false, error: { reason: 'refused' } });

      const events = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'connector.updated' and target_id = $2 order by seq",
        [a.companyId, c.id],
      );
      expect(events.rows.map((r) => r.metadata)).toEqual([
        { toolId: 'patch.me', changed: ['endpointUrl'], endpoint: endpoint.url('/patch/v2') },
        { toolId: 'patch.me', changed: ['secret'], secret: 'set' },
        { toolId: 'patch.me', changed: ['secret'], secret: 'cleared' },
      ]);
    });

    it('binds a secret to its origin: moving it to another host, scheme or port needs the secret again', async () => {
      const secret = newSecret('origin');
      const c = await create(a.admin, {
        toolId: 'origin.bound',
        endpointUrl: endpoint.url('/o'),
        authScheme: 'bearer',
        secret,
      });
      const url = `/v1/connectors/${c.id}`;
      for (const elsewhere of [
        `http://localhost:${endpoint.port}/o`,
        `https://127.0.0.1:${endpoint.port}/o`,
        `http://127.0.0.1:${endpoint.port + 1}/o`,
      ]) {
        const res = await as(a.admin).patch(url, { endpointUrl: elsewhere });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors[0].field).toBe('secret');
      }
      expect((await as(a.admin).patch(url, { endpointUrl: endpoint.url('/o/other-path') })).status).toBe(200);
      const moved = await as(a.admin).patch(url, {
        endpointUrl: `http://localhost:${endpoint.port}/o`,
        secret: null,
      });
      expect(moved.body).toMatchObject({
        hasSecret: false,
        endpointUrl: `http://localhost:${endpoint.port}/o`,
      });
    });

    it('keeps scheme and secret consistent', async () => {
      const secret = newSecret('scheme');
      const c = await create(a.admin, {
        toolId: 'scheme.switch',
        endpointUrl: endpoint.url('/s'),
        authScheme: 'bearer',
        secret,
      });
      const url = `/v1/connectors/${c.id}`;
      expectProblem(await as(a.admin).patch(url, { authScheme: 'none' }), 400, 'VALIDATION_FAILED');
      // The stored bearer token is not user:password.
      expectProblem(await as(a.admin).patch(url, { authScheme: 'basic' }), 400, 'VALIDATION_FAILED');
      const header = await as(a.admin).patch(url, { authScheme: 'header:X-Api-Key' });
      expect(header.body).toMatchObject({ authScheme: 'header:x-api-key', hasSecret: true });
      const none = await as(a.admin).patch(url, { authScheme: 'none', secret: null });
      expect(none.body).toMatchObject({ authScheme: 'none', hasSecret: false });
      expectProblem(await as(a.admin).patch(url, { secret: 'x-secret-for-none' }), 400, 'VALIDATION_FAILED');
      expectProblem(await as(a.admin).patch(url, { secretSetAt: null }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await as(a.admin).patch(url, { endpointUrl: 'file:///etc/passwd' }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('deletes a connector and its secret', async () => {
      const c = await create(a.admin, {
        toolId: 'delete.me',
        endpointUrl: endpoint.url('/d'),
        authScheme: 'bearer',
        secret: newSecret('del'),
      });
      expect((await as(a.admin).delete(`/v1/connectors/${c.id}`)).status).toBe(204);
      expectProblem(await as(a.admin).get(`/v1/connectors/${c.id}`), 404, 'NOT_FOUND');
      expectProblem(await as(a.admin).delete(`/v1/connectors/${c.id}`), 404, 'NOT_FOUND');
      expect(
        (await t.owner.query('select count(*)::int as n from connectors where id = $1', [c.id])).rows[0].n,
      ).toBe(0);
      const { rows } = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'connector.deleted' and target_id = $2",
        [a.companyId, c.id],
      );
      expect(rows).toEqual([{ metadata: { toolId: 'delete.me' } }]);
      const err = await invokeError(a, { toolId: 'delete.me' });
      expect(err).toMatchObject({ reason: 'not_bound', retryable: false });
    });
  });

  describe('calls: the test endpoint and the ConnectorInvoker', () => {
    it('test-calls the endpoint with its authentication and reports the outcome as data', async () => {
      const secret = newSecret('test');
      const c = await create(a.admin, {
        toolId: 'test.call',
        endpointUrl: endpoint.url('/test-call?v=1'),
        authScheme: 'bearer',
        secret,
      });
      const res = await as(a.admin).post(`/v1/connectors/${c.id}/test`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, status: 200, durationMs: expect.any(Number) });
      const seen = endpoint.on('/test-call').at(-1)!;
      expect(seen).toMatchObject({ method: 'POST', path: '/test-call?v=1', body: '{"ping":true}' });
      expect(seen.headers).toMatchObject({
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        'idempotency-key': expect.stringMatching(/^connector-test-/),
      });
      await as(a.owner).post(`/v1/connectors/${c.id}/test`, { input: { hello: ['world'] } });
      expect(endpoint.on('/test-call').at(-1)!.body).toBe('{"hello":["world"]}');

      endpoint.handle('/test-fail', (_req, r) => sendJson(r, 503, { error: 'down' }));
      const failing = await create(a.admin, {
        toolId: 'test.fail',
        endpointUrl: endpoint.url('/test-fail'),
        authScheme: 'none',
      });
      const failed = await as(a.admin).post(`/v1/connectors/${failing.id}/test`, {});
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({
        ok: false,
        status: 503,
        error: { reason: 'http_status', retryable: true },
      });
      expect(failed.text).not.toContain('down');

      const events = await t.owner.query(
        "select metadata from audit_events where company_id = $1 and action = 'connector.tested' and target_id = any($2) order by seq",
        [a.companyId, [c.id, failing.id]],
      );
      expect(events.rows.map((r) => r.metadata)).toEqual([
        { toolId: 'test.call', ok: true, status: 200 },
        { toolId: 'test.call', ok: true, status: 200 },
        { toolId: 'test.fail', ok: false, status: 503, reason: 'http_status' },
      ]);
    });

    it('sends basic and custom-header credentials as configured', async () => {
      const basic = `ann:${newSecret('pw')}`;
      await create(a.admin, {
        toolId: 'auth.basic',
        endpointUrl: endpoint.url('/basic'),
        authScheme: 'basic',
        secret: basic,
      });
      await invokeAs(a, { toolId: 'auth.basic' });
      expect(endpoint.on('/basic').at(-1)!.headers.authorization).toBe(
        `Basic ${Buffer.from(basic).toString('base64')}`,
      );

      const key = newSecret('apikey');
      await create(a.admin, {
        toolId: 'auth.header',
        endpointUrl: endpoint.url('/header'),
        authScheme: 'header:X-Api-Key',
        secret: key,
      });
      await invokeAs(a, { toolId: 'auth.header' });
      const seen = endpoint.on('/header').at(-1)!;
      expect(seen.headers['x-api-key']).toBe(key);
      expect(seen.headers.authorization).toBeUndefined();

      await create(a.admin, { toolId: 'auth.none', endpointUrl: endpoint.url('/none'), authScheme: 'none' });
      await invokeAs(a, { toolId: 'auth.none' });
      expect(endpoint.on('/none').at(-1)!.headers.authorization).toBeUndefined();
    });

    it('invokes by tool id in the current company: JSON in and out, idempotency key, not_bound elsewhere', async () => {
      endpoint.handle('/invoke', (req, r) => sendJson(r, 200, { echo: JSON.parse(req.body) as unknown }));
      await create(b.admin, {
        toolId: 'invoke.only-b',
        endpointUrl: endpoint.url('/invoke'),
        authScheme: 'none',
      });
      const result = await invokeAs(b, {
        toolId: 'invoke.only-b',
        input: { customer: 42 },
        idempotencyKey: 'run-1:step-2:1',
      });
      expect(result).toEqual({
        status: 200,
        output: { echo: { customer: 42 } },
        durationMs: expect.any(Number),
      });
      expect(endpoint.on('/invoke').at(-1)!.headers['idempotency-key']).toBe('run-1:step-2:1');
      // Company A has no such tool: its context never reaches B's connector.
      expect(await invokeError(a, { toolId: 'invoke.only-b' })).toMatchObject({
        reason: 'not_bound',
        retryable: false,
      });
      expect(await invokeError(a, { toolId: 'Not A Tool' })).toMatchObject({ reason: 'not_bound' });
      endpoint.handle('/empty', (_req, r) => r.writeHead(204).end());
      await create(b.admin, {
        toolId: 'invoke.empty',
        endpointUrl: endpoint.url('/empty'),
        authScheme: 'none',
      });
      expect((await invokeAs(b, { toolId: 'invoke.empty' })).output).toBeNull();
    });

    it('maps failures to ToolCallError reasons with the right retryability', async () => {
      const routes: [string, (r: import('node:http').ServerResponse) => void, Partial<ToolCallError>][] = [
        ['/e429', (r) => sendJson(r, 429, {}), { reason: 'http_status', retryable: true, status: 429 }],
        ['/e500', (r) => sendJson(r, 500, {}), { reason: 'http_status', retryable: true, status: 500 }],
        ['/e404', (r) => sendJson(r, 404, {}), { reason: 'http_status', retryable: false, status: 404 }],
        [
          '/e302',
          (r) => r.writeHead(302, { location: endpoint.url('/elsewhere') }).end(),
          { reason: 'http_status', retryable: false, status: 302 },
        ],
        [
          '/html',
          (r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
          { reason: 'bad_response', retryable: false },
        ],
        [
          '/huge',
          (r) => sendJson(r, 200, { blob: 'x'.repeat(1024 * 1024 + 10) }),
          { reason: 'response_too_large', retryable: false },
        ],
        ['/slow', () => undefined, { reason: 'timeout', retryable: true }],
      ];
      for (const [path, handler, expected] of routes) {
        endpoint.handle(path, (_req, r) => handler(r));
        const toolId = `fail.${path.slice(1)}`;
        await create(a.admin, { toolId, endpointUrl: endpoint.url(path), authScheme: 'none' });
        const error = await invokeError(a, { toolId, timeoutMs: path === '/slow' ? 200 : undefined });
        expect(error, path).toMatchObject(expected);
      }
      expect(endpoint.on('/elsewhere')).toHaveLength(0);
    });

    it('scrubs the secret from an endpoint that echoes it back', async () => {
      const secret = newSecret('echoed');
      endpoint.handle('/echo-headers', (req, r) =>
        sendJson(r, 200, { headers: req.headers, note: `token=${secret}` }),
      );
      const c = await create(a.admin, {
        toolId: 'echo.headers',
        endpointUrl: endpoint.url('/echo-headers'),
        authScheme: 'bearer',
        secret,
      });
      const result = await invokeAs(a, { toolId: 'echo.headers' });
      const text = JSON.stringify(result.output);
      for (const form of forms(secret)) expect(text).not.toContain(form);
      expect(text).toContain('[redacted]');
      // The test endpoint does not return the response body at all.
      const res = await as(a.admin).post(`/v1/connectors/${c.id}/test`, {});
      expect(res.body).toEqual({ ok: true, status: 200, durationMs: expect.any(Number) });
    });
  });

  describe('secrets at rest', () => {
    it('stores no plaintext secret in any column, and binds each ciphertext to its row', async () => {
      const secret = newSecret('atrest');
      const one = await create(a.admin, {
        toolId: 'rest.one',
        endpointUrl: endpoint.url('/rest'),
        authScheme: 'bearer',
        secret,
      });
      const two = await create(a.admin, {
        toolId: 'rest.two',
        endpointUrl: endpoint.url('/rest'),
        authScheme: 'bearer',
        secret: newSecret('other'),
      });
      const tables = ['connectors', 'company_keys', 'audit_events', 'audit_chain_heads'];
      for (const table of tables) {
        const { rows } = await t.owner.query(`select * from ${table}`);
        const dump = JSON.stringify(rows);
        for (const s of secrets)
          for (const form of forms(s)) expect(dump, `${table} holds a secret`).not.toContain(form);
      }
      const { rows } = await t.owner.query('select secret_ciphertext from connectors where id = $1', [
        one.id,
      ]);
      expect(rows[0].secret_ciphertext).toMatch(/^v1:[^:]+:[^:]+:[^:]+$/);
      const keys = await t.owner.query(
        'select wrapped_key, master_key_id from company_keys where company_id = $1',
        [a.companyId],
      );
      expect(keys.rows).toHaveLength(1);
      expect(keys.rows[0].wrapped_key).toMatch(/^v1:/);

      // A ciphertext copied onto another row (same company) or into another company does not decrypt.
      await t.owner.query('update connectors set secret_ciphertext = $1 where id = $2', [
        rows[0].secret_ciphertext,
        two.id,
      ]);
      await expect(invokeAs(a, { toolId: 'rest.two' })).rejects.toBeInstanceOf(SecretUnavailableError);
      const foreign = await create(b.admin, {
        toolId: 'rest.foreign',
        endpointUrl: endpoint.url('/rest'),
        authScheme: 'bearer',
        secret: newSecret('b'),
      });
      await t.owner.query('update connectors set secret_ciphertext = $1 where id = $2', [
        rows[0].secret_ciphertext,
        foreign.id,
      ]);
      await expect(invokeAs(b, { toolId: 'rest.foreign' })).rejects.toBeInstanceOf(SecretUnavailableError);
      // A connector row moved (by someone with database access) into the copied-to company does not decrypt either.
      const keyring = t.app.get(KeyringService);
      await expect(
        tenancy.run(ctxOf(b), async (em) => {
          const copy = Object.assign(Object.create(Connector.prototype) as Connector, {
            id: one.id,
            companyId: b.companyId,
            secretCiphertext: rows[0].secret_ciphertext as string,
          });
          return keyring.openSecret(em, copy);
        }),
      ).rejects.toBeInstanceOf(SecretUnavailableError);
      // The original still works.
      await invokeAs(a, { toolId: 'rest.one' });
      expect(endpoint.on('/rest').at(-1)!.headers.authorization).toBe(`Bearer ${secret}`);
    });

    it('creates one data key per company, even for concurrent first secrets', async () => {
      const c = await registerCompany(t, 'Concurrent Keys');
      const owner = { ...c.owner };
      const results = await Promise.all(
        [1, 2, 3].map((i) => {
          const secret = newSecret(`race${i}`);
          secrets.push(secret);
          return as(owner).post('/v1/connectors', {
            toolId: `race.c${i}`,
            endpointUrl: endpoint.url('/race'),
            authScheme: 'bearer',
            secret,
          });
        }),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
      const keys = await t.owner.query('select count(*)::int as n from company_keys where company_id = $1', [
        c.companyId,
      ]);
      expect(keys.rows[0].n).toBe(1);
      for (const i of [1, 2, 3])
        await invokeAs({ companyId: c.companyId } as CompanySession, { toolId: `race.c${i}` });
    });

    it('lets the application create and read data keys, never change or delete them', async () => {
      const client = await t.appRole.connect();
      try {
        for (const statement of [
          'update company_keys set master_key_id = master_key_id',
          'delete from company_keys',
        ]) {
          await client.query('begin');
          await client.query("select set_config('app.company_id', $1, true)", [a.companyId]);
          await expect(client.query(statement)).rejects.toThrow(/permission denied/);
          await client.query('rollback');
        }
      } finally {
        client.release();
      }
    });

    it('destroys the data key (and the connectors) when the company is purged', async () => {
      const c = await registerCompany(t, 'Purged Co');
      const owner = { ...c.owner };
      const secret = newSecret('purge');
      secrets.push(secret);
      const res = await as(owner).post('/v1/connectors', {
        toolId: 'purge.me',
        endpointUrl: endpoint.url('/p'),
        authScheme: 'bearer',
        secret,
      });
      expect(res.status).toBe(201);
      const count = async (table: string) =>
        (await t.owner.query(`select count(*)::int as n from ${table} where company_id = $1`, [c.companyId]))
          .rows[0].n as number;
      expect(await count('company_keys')).toBe(1);
      await t.owner.query('delete from companies where id = $1', [c.companyId]);
      expect(await count('company_keys')).toBe(0);
      expect(await count('connectors')).toBe(0);
    });
  });

  it('never disclosed a secret in any response of this suite', () => {
    expect(bodies.length).toBeGreaterThan(50);
    const all = bodies.join('\n');
    for (const s of secrets)
      for (const form of forms(s)) expect(all.includes(form), 'a response contains a secret').toBe(false);
  });
});
