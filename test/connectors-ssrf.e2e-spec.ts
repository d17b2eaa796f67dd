import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/common/ids.js';
import {
  CONNECTOR_INVOKER,
  ToolCallError,
  type ConnectorInvoker,
} from '../src/connectors/connector-invoker.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem } from './harness/problem.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/**
 * Outbound safety with no allow-list (`CONNECTOR_ALLOWED_HOSTS=''`, as in production): loopback, private,
 * link-local and metadata endpoints are refused when written and again before every call. A second app on the same
 * database, started with the test suite's allow-list, binds connectors the strict app must then refuse to call.
 */
describe('connectors: outbound safety (SSRF)', () => {
  let strict: TestApp;
  let lenient: TestApp;
  let a: CompanySession;
  let endpoint: TestEndpoint;

  const token = () => a.admin.accessToken;
  const createIn = (app: TestApp, body: object) =>
    app.http().post('/v1/connectors').auth(token(), { type: 'bearer' }).send(body);
  const testIn = (app: TestApp, id: string) =>
    app.http().post(`/v1/connectors/${id}/test`).auth(token(), { type: 'bearer' }).send({});
  const count = async () =>
    (
      await strict.owner.query('select count(*)::int as n from connectors where company_id = $1', [
        a.companyId,
      ])
    ).rows[0].n as number;

  beforeAll(async () => {
    strict = await startTestApp({ CONNECTOR_ALLOWED_HOSTS: '' });
    lenient = await startTestApp();
    expect(strict.config.connectors.allowedHosts).toEqual([]);
    expect(lenient.config.connectors.allowedHosts).toContain('127.0.0.1');
    endpoint = await startTestEndpoint();
    a = await createCompanySession(strict, 'SSRF Co');
  });
  afterAll(async () => {
    await endpoint.close();
    await strict.close();
    await lenient.close();
  });

  it('refuses internal endpoints and non-http schemes when a connector is written, storing nothing', async () => {
    const before = await count();
    const refused = [
      `http://127.0.0.1:${endpoint.port}/`,
      'http://127.1/',
      'http://2130706433/',
      `http://localhost:${endpoint.port}/`,
      `http://localhost.:${endpoint.port}/`,
      'http://api.localhost/',
      'http://0.0.0.0/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.0.1/',
      'http://100.64.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      `http://[::1]:${endpoint.port}/`,
      'http://[::ffff:127.0.0.1]/',
      'http://[fe80::1]/',
      'http://224.0.0.1/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'gopher://127.0.0.1:25/',
    ];
    for (const [i, endpointUrl] of refused.entries()) {
      const res = await createIn(strict, { toolId: `ssrf.write${i}`, endpointUrl, authScheme: 'none' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors[0].field, endpointUrl).toBe('endpointUrl');
    }
    const patchTarget = await createIn(strict, {
      toolId: 'ssrf.public',
      endpointUrl: 'https://api.example.com/hook',
      authScheme: 'none',
    });
    expect(patchTarget.status).toBe(201);
    const moved = await strict
      .http()
      .patch(`/v1/connectors/${patchTarget.body.id}`)
      .auth(token(), { type: 'bearer' })
      .send({ endpointUrl: 'http://169.254.169.254/' });
    expectProblem(moved, 400, 'VALIDATION_FAILED');
    expect(await count()).toBe(before + 1);
  });

  it('checks again before every call: a connector bound to an internal address is never called', async () => {
    const bound: { id: string; toolId: string }[] = [];
    // Bound while the allow-list admitted them (the lenient app) ...
    for (const [i, host] of ['127.0.0.1', 'localhost', 'localhost.', '[::1]'].entries()) {
      const res = await createIn(lenient, {
        toolId: `ssrf.call${i}`,
        endpointUrl: `http://${host}:${endpoint.port}/internal`,
        authScheme: 'none',
      });
      expect(res.status, host).toBe(201);
      bound.push({ id: res.body.id as string, toolId: `ssrf.call${i}` });
    }
    // ... or written straight into the table (a restored backup, an older release): fixtures as the owner.
    for (const [i, url] of ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/'].entries()) {
      const id = newId();
      await strict.owner.query(
        `insert into connectors (id, company_id, tool_id, endpoint_url, auth_scheme) values ($1, $2, $3, $4, 'none')`,
        [id, a.companyId, `ssrf.raw${i}`, url],
      );
      bound.push({ id, toolId: `ssrf.raw${i}` });
    }
    const tenancy = strict.app.get(TenancyService);
    const invoker = strict.app.get<ConnectorInvoker>(CONNECTOR_INVOKER);
    const ctx = {
      companyId: a.companyId,
      principalId: 'run-engine',
      principalType: 'system' as const,
      role: 'member' as const,
      userId: undefined,
      actingUserId: 'run-engine',
      operatorId: undefined,
    };
    for (const { id, toolId } of bound) {
      const res = await testIn(strict, id);
      expect(res.status).toBe(200);
      expect(res.body, toolId).toMatchObject({
        ok: false,
        status: null,
        error: { reason: 'refused', retryable: false },
      });
      const error = await tenancy
        .run(ctx, () => invoker.invoke({ toolId, input: {}, idempotencyKey: 'k' }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ToolCallError);
      expect(error).toMatchObject({ reason: 'refused', retryable: false });
    }
    expect(endpoint.on('/internal')).toHaveLength(0);
    // The lenient app, allowed to, does reach the same endpoint.
    const allowed = await testIn(lenient, bound[0].id);
    expect(allowed.body).toMatchObject({ ok: true, status: 200 });
    expect(endpoint.on('/internal')).toHaveLength(1);
  });

  it('does not follow a redirect from an allowed endpoint to the metadata service', async () => {
    endpoint.handle('/bounce', (_req, res) =>
      res
        .writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' })
        .end(),
    );
    const res = await createIn(lenient, {
      toolId: 'ssrf.redirect',
      endpointUrl: endpoint.url('/bounce'),
      authScheme: 'bearer',
      secret: 'redirect-secret-value-0001',
    });
    expect(res.status).toBe(201);
    const result = await testIn(lenient, res.body.id as string);
    expect(result.body).toMatchObject({
      ok: false,
      status: 302,
      error: { reason: 'http_status', retryable: false, message: expect.stringMatching(/redirect/) },
    });
    expect(endpoint.on('/bounce')).toHaveLength(1);
  });
});
