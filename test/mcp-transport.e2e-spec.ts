/**
 * How `/mcp` runs a tool call (issue 19, speed): a plain `tools/call` is answered before the transport's Nest route
 * and its mirrored route is the one request that authenticates and counts (src/mcp/mcp-fast-path.ts,
 * src/authz/transport-call.ts). What a client sees must not change: the 401 of `/mcp`, one count per call, the
 * transport's own permission, the same answer as any other path to the same tool, the caller's address on the
 * audit event, and no way for a request from outside to act as a transport call. The route runs inside the
 * transport's request (src/mcp/mcp-route-runner.ts): its guards, pipes, limits and write slot apply exactly as over
 * HTTP, once.
 */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthorizationGuard } from '../src/authz/authorization.guard.js';
import { RequestLimits } from '../src/authz/request-limits.js';
import { runTransportCall } from '../src/authz/transport-call.js';
import { newId } from '../src/common/ids.js';
import { UndeclaredBodyGuard } from '../src/common/undeclared-body.guard.js';
import { ApiValidationPipe } from '../src/common/validation.pipe.js';
import { RunsService } from '../src/runs/runs.service.js';
import { userContext } from '../src/tenancy/request-store.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { call } from './harness/http.js';
import { okBody, type Json } from './harness/isolation.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

const ACCEPT = 'application/json, text/event-stream';

describe('MCP tool calls through the transport', () => {
  let t: TestApp;
  let base: string;
  let a: CompanySession;
  let b: CompanySession;
  let runId: string;
  let versionId: string;
  const logged: Json[] = [];

  beforeAll(async () => {
    // Behind a proxy: the caller's address comes from X-Forwarded-For (to tell it from the loopback's). The
    // application's log lines are kept (`logged`) instead of printed.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line) as Json);
        done();
      },
    });
    t = await startTestApp({ TRUST_PROXY: 'true' }, pino({ level: 'info' }, sink));
    base = await t.listen();
    a = await createCompanySession(t, 'mcp-transport-a');
    b = await createCompanySession(t, 'mcp-transport-b');
    versionId = await publishedVersion();
    const run = okBody(
      await call(t, 'POST', '/v1/runs', {
        token: a.member.accessToken,
        body: { draftVersionId: versionId, input: {} },
      }),
      'run',
    );
    runId = run.id as string;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A published version of a one-step (approval) draft of A: a run starts from it with no connector. */
  async function publishedVersion(): Promise<string> {
    const draft = okBody(
      await call(t, 'POST', '/v1/drafts', {
        token: a.member.accessToken,
        body: {
          name: `MCP transport ${newId()}`,
          description: 'An MCP fixture.',
          category: 'finance',
          inputSchema: { type: 'object', properties: {} },
          steps: [{ id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Pay?' }],
        },
      }),
      'draft',
    );
    const published = okBody(
      await call(t, 'POST', `/v1/drafts/${draft.id as string}/publish`, { token: a.manager.accessToken }),
      'publish',
    );
    return published.publishedVersionId as string;
  }

  async function apiKey(permissions: string[]): Promise<string> {
    const key = okBody(
      await call(t, 'POST', '/v1/api-keys', {
        token: a.admin.accessToken,
        body: { name: `mcp-${permissions.join('-')}`, role: 'member', permissions },
      }),
      'api key',
    );
    return key.key as string;
  }

  /** One JSON-RPC message to /mcp, as a client's raw request. */
  function rpc(token: string | undefined, message: Json, headers: Record<string, string> = {}) {
    return fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: ACCEPT,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify(message),
    });
  }
  /** A plain tools/call; with `meta`, the same call with a `_meta` (answered on the transport's Nest route). */
  const toolCall = (name: string, args: Json, meta = false): Json => ({
    jsonrpc: '2.0',
    id: 3,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta ? { _meta: {} } : {}) },
  });

  it('answers a tool call without a credential, or with a bad one, with the 401 of /mcp', async () => {
    const origin = t.config.publicAppUrl;
    const other = await rpc(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    for (const token of [undefined, 'not-a-token', 'sk_live_notakey']) {
      const res = await rpc(token, toolCall('get_run', { id: runId }));
      expect(res.status, token).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="tenantry", resource_metadata="${origin}/.well-known/oauth-protected-resource"`,
      );
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('ratelimit-policy')).toBe(other.headers.get('ratelimit-policy'));
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(body.requestId).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toContain(runId);
    }
  });

  it('counts a tool call once, names that count in its answer, and ignores an internal-call header', async () => {
    const token = a.member.accessToken;
    const remaining = async (res: Response | { headers: Record<string, string> }) =>
      Number(
        res instanceof Response ? res.headers.get('ratelimit-remaining') : res.headers['ratelimit-remaining'],
      );
    // Each read after the counts of the step before reached the shared counters (flushed every 100 ms).
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
    const count = async () => remaining(await call(t, 'GET', '/v1/runs', { token }));
    const first = await count();
    await settle();
    const plain = await rpc(token, toolCall('list_runs', {}));
    expect(await remaining(plain)).toBe(first - 1);
    await settle();
    expect(await count()).toBe(first - 2);
    await settle();
    const routed = await rpc(token, toolCall('list_runs', {}, true));
    expect(await remaining(routed)).toBe(first - 3);
    await settle();
    expect(await count()).toBe(first - 4);
    await settle();
    // The header the transport used to mark its inner requests with is nothing now: counted like any other.
    const marked = await call(t, 'GET', '/v1/runs', {
      token,
      headers: { 'x-tenantry-internal-call': 'anything' },
    });
    expect(await remaining(marked)).toBe(first - 5);
  });

  it('gives no transport call to a request arriving from outside, even one sent from inside a call', async () => {
    // Were the handle reachable from a request that came over the network, this one would act as A's owner.
    const res = await runTransportCall(
      {
        rule: { action: 'use', subject: 'Mcp' },
        verified: userContext(a.companyId, a.owner.userId, 'owner'),
      },
      () => fetch(`${base}/v1/runs/${runId}`),
    );
    expect(res.status).toBe(401);
  });

  it('answers a tool call exactly as the transport route answers the same call', async () => {
    const token = a.member.accessToken;
    const cases: [string, Json][] = [
      ['get_run', { id: runId }],
      ['list_runs', {}],
      ['get_run', { id: newId() }],
      ['give_verdict', { id: runId, decision: 'approve' }],
    ];
    for (const [name, args] of cases) {
      const plain = (await (await rpc(token, toolCall(name, args))).json()) as Json;
      const routed = (await (await rpc(token, toolCall(name, args, true))).json()) as Json;
      expect(plain, name).toEqual(routed);
    }
    const got = (await (await rpc(token, toolCall('get_run', { id: runId }))).json()) as Json;
    const result = got.result as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as Json).id).toBe(runId);
    // A member may not give verdicts: the tool is not offered, and nothing is audited as a denial.
    const verdict = (await (
      await rpc(token, toolCall('give_verdict', { id: runId, decision: 'approve' }))
    ).json()) as Json;
    expect(((verdict.result as CallToolResult).content[0] as { text: string }).text).toBe(
      'Unknown tool: give_verdict',
    );
    const denied = okBody(
      await call(t, 'GET', '/v1/audit-events', {
        token: a.admin.accessToken,
        query: { action: 'authorization.denied', limit: '100' },
      }),
      'audit',
    );
    expect(JSON.stringify(denied.data)).not.toContain(runId);
    // Another company's id reads exactly like a missing one.
    const foreign = (await (
      await rpc(b.owner.accessToken, toolCall('get_run', { id: runId }))
    ).json()) as Json;
    const missing = (await (
      await rpc(b.owner.accessToken, toolCall('get_run', { id: newId() }))
    ).json()) as Json;
    expect(foreign.result).toEqual(missing.result);
  });

  it("runs the route's guards, pipes, limits and write slot exactly as over HTTP, once, inside /mcp's request", async () => {
    const token = a.member.accessToken;
    const spies = {
      authorization: vi.spyOn(AuthorizationGuard.prototype, 'canActivate'),
      undeclaredBody: vi.spyOn(UndeclaredBodyGuard.prototype, 'canActivate'),
      validation: vi.spyOn(ApiValidationPipe.prototype, 'transform'),
      counted: vi.spyOn(RequestLimits.prototype, 'countTenant'),
      writeSlot: vi.spyOn(RequestLimits.prototype, 'holdWriteSlot'),
    };
    const inject = vi.spyOn(t.app.getHttpAdapter().getInstance(), 'inject');
    const counts = () =>
      Object.fromEntries(Object.entries(spies).map(([k, spy]) => [k, spy.mock.calls.length]));
    const reset = () => {
      for (const spy of Object.values(spies)) spy.mockClear();
      inject.mockClear();
    };
    const body = { draftVersionId: versionId, input: {} };
    const cases: [string, () => Promise<unknown>, Json][] = [
      ['get_run', () => call(t, 'GET', `/v1/runs/${runId}`, { token }), toolCall('get_run', { id: runId })],
      [
        'list_parked_runs',
        () => call(t, 'GET', '/v1/runs', { token, query: { status: 'parked' } }),
        toolCall('list_parked_runs', {}),
      ],
      ['start_run', () => call(t, 'POST', '/v1/runs', { token, body }), toolCall('start_run', body)],
    ];
    try {
      for (const [name, overHttp, message] of cases) {
        reset();
        await overHttp();
        const route = counts();
        reset();
        const res = await rpc(token, message);
        expect(res.status, name).toBe(200);
        expect((((await res.json()) as Json).result as CallToolResult).isError, name).toBeFalsy();
        // The same guards, pipes, count and write slot as the route over HTTP, each once: nothing skipped or doubled.
        expect(counts(), name).toEqual(route);
        expect(route.authorization, name).toBe(1);
        expect(route.counted, name).toBe(1);
        // In the transport's own request: no second Fastify request.
        expect(inject, name).not.toHaveBeenCalled();
      }
      expect(spies.writeSlot).toHaveBeenCalledTimes(1);
      // A call the transport's Nest route answers (here with `_meta`): its guard and the route's, one count in all.
      reset();
      await rpc(token, toolCall('get_run', { id: runId }, true));
      expect(counts()).toMatchObject({ authorization: 2, counted: 1, writeSlot: 0 });
      expect(inject).not.toHaveBeenCalled();
      // An id longer than Fastify's router takes is answered as that request is (through inject).
      reset();
      const long = (await (await rpc(token, toolCall('get_run', { id: 'x'.repeat(300) }))).json()) as Json;
      expect(((long.result as CallToolResult).content[0] as { text: string }).text).toBe(
        'VALIDATION_FAILED: A path parameter is longer than allowed',
      );
      expect(inject).toHaveBeenCalled();
      // The route's own pipe refuses a malformed id, naming it, as the route does.
      const bad = (await (await rpc(token, toolCall('get_run', { id: 'not-a-uuid' }))).json()) as Json;
      const result = bad.result as CallToolResult;
      expect(result.isError).toBe(true);
      expect((result.content[0] as { text: string }).text).toMatch(
        /^VALIDATION_FAILED: .*\nid: must be a UUID$/s,
      );
    } finally {
      for (const spy of [...Object.values(spies), inject]) spy.mockRestore();
    }
  });

  it('refuses /mcp itself to a credential without mcp:use, and offers a scoped key only its tools', async () => {
    const noMcp = await rpc(await apiKey(['runs:read']), toolCall('get_run', { id: runId }));
    expect(noMcp.status).toBe(403);
    expect(((await noMcp.json()) as Json).detail).toMatch(/mcp:use/);
    const mcpOnly = await rpc(await apiKey(['mcp:use']), toolCall('get_run', { id: runId }));
    expect(mcpOnly.status).toBe(200);
    const result = ((await mcpOnly.json()) as Json).result as CallToolResult;
    expect(result).toEqual({ isError: true, content: [{ type: 'text', text: 'Unknown tool: get_run' }] });
  });

  it("records the caller's address, user agent (or none) and the key as actor on a tool call's audit event", async () => {
    const key = await apiKey(['mcp:use', 'runs:read', 'runs:create']);
    const startRun = async (headers: Record<string, string>): Promise<Json | undefined> => {
      const body = JSON.stringify(toolCall('start_run', { draftVersionId: versionId, input: {} }));
      // node:http sends no user agent unless told to (fetch always sends one).
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request(
          `${base}/mcp`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              accept: ACCEPT,
              ...headers,
            },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      const result = (JSON.parse(answer) as Json).result as CallToolResult;
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      const started = (result.structuredContent as Json).id as string;
      const events = okBody(
        await call(t, 'GET', '/v1/audit-events', {
          token: a.admin.accessToken,
          query: { action: 'run.started', limit: '100' },
        }),
        'audit',
      );
      return (events.data as Json[]).find((e) => (e.target as Json | null)?.id === started);
    };
    const proxied = await startRun({ 'x-forwarded-for': '203.0.113.9', 'user-agent': 'agent/1.0' });
    expect(proxied?.actor).toMatchObject({ type: 'api_key', onBehalfOf: a.admin.userId });
    expect(proxied?.context).toMatchObject({ ip: '203.0.113.9', userAgent: 'agent/1.0' });
    const anonymous = await startRun({});
    expect((anonymous?.context as Json | undefined)?.userAgent).toBeNull();
  });

  it("logs a tool call's route and status on the /mcp line, a failure inside it as an error", async () => {
    const token = a.member.accessToken;
    const lineOf = (res: Response) =>
      logged.find((l) => l.msg === 'request' && l.requestId === res.headers.get('x-request-id'));
    const found = await rpc(token, toolCall('get_run', { id: newId() }));
    expect(lineOf(found)).toMatchObject({
      level: 30,
      route: '/mcp',
      status: 200,
      tool: { route: 'GET /v1/runs/:id', status: 404 },
    });
    // A fault inside the route (here injected into the service): 500 inside the call, `/mcp` itself 200.
    const fault = vi.spyOn(t.app.get(RunsService), 'get').mockRejectedValueOnce(new Error('injected fault'));
    try {
      const failed = await rpc(token, toolCall('get_run', { id: runId }));
      expect(failed.status).toBe(200);
      const result = ((await failed.json()) as Json).result as CallToolResult;
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result)).not.toContain('injected fault');
      expect(lineOf(failed)).toMatchObject({
        level: 50,
        route: '/mcp',
        status: 200,
        tool: { route: 'GET /v1/runs/:id', status: 500 },
      });
      expect(fault).toHaveBeenCalledTimes(1);
    } finally {
      fault.mockRestore();
    }
  });
});
