/**
 * MCP over Streamable HTTP, driven with the SDK's own Client against the real app: authentication, the tools a
 * credential sees, calls that run the mirrored route (audit, four-eyes, validation), and another company's ids
 * answering "not found" exactly like missing ones, for every tool that takes an id.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/common/ids.js';
import { RunWorker } from '../src/runs/run-worker.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { call } from './harness/http.js';
import { waitFor } from './harness/runs.js';
import { okBody, type Json } from './harness/isolation.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

const draftBody = (name: string) => ({
  name,
  description: 'An MCP fixture.',
  category: 'finance',
  inputSchema: { type: 'object', properties: { vendorId: { type: 'string' } } },
  steps: [{ id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Pay?' }],
});

describe('MCP server', () => {
  let t: TestApp;
  let base: string;
  let a: CompanySession;
  let b: CompanySession;
  let aVersionId: string;
  const clients: Client[] = [];

  async function connect(token: string, requestInit: RequestInit = {}): Promise<Client> {
    const client = new Client({ name: 'tenantry-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
      requestInit: { ...requestInit, headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  async function apiKey(s: CompanySession, role: string): Promise<string> {
    const key = okBody(
      await call(t, 'POST', '/v1/api-keys', {
        token: s.admin.accessToken,
        body: { name: `mcp-${role}`, role },
      }),
      'api key',
    );
    return key.key as string;
  }

  async function publishedVersion(s: CompanySession): Promise<string> {
    const draft = okBody(
      await call(t, 'POST', '/v1/drafts', { token: s.member.accessToken, body: draftBody(`MCP ${newId()}`) }),
      'draft',
    );
    const published = okBody(
      await call(t, 'POST', `/v1/drafts/${draft.id as string}/publish`, { token: s.manager.accessToken }),
      'publish',
    );
    return published.publishedVersionId as string;
  }

  const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

  beforeAll(async () => {
    t = await startTestApp();
    t.app.get(RunWorker).start({ pollIntervalMs: 50, leaseMs: 5_000, backoffBaseMs: 20, stopGraceMs: 2_000 });
    base = await t.listen();
    a = await createCompanySession(t, 'mcp-a');
    b = await createCompanySession(t, 'mcp-b');
    aVersionId = await publishedVersion(a);
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await t?.close();
  });

  it('answers 401 with WWW-Authenticate and serves the protected-resource metadata', async () => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const origin = t.config.publicAppUrl;
    expect(challenge).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource"`);
    // The configured origin, never the request's Host: a forged Host cannot send clients elsewhere.
    const forged = await call(t, 'GET', '/.well-known/oauth-protected-resource', {
      headers: { host: 'evil.example' },
    });
    const meta = forged.body as Json;
    expect(meta.resource).toBe(`${origin}/mcp`);
    expect(meta.authorization_servers).toEqual([origin]);
    const server = (await call(t, 'GET', '/.well-known/oauth-authorization-server')).body as Json;
    expect(server.token_endpoint).toBe(`${origin}/v1/oauth/token`);
    expect(server.grant_types_supported).toEqual(['client_credentials']);
  });

  it('lists only the tools the credential may call, with schemas generated from the DTOs', async () => {
    const manager = await connect(a.manager.accessToken);
    const names = (await manager.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining(['start_run', 'get_run', 'list_parked_runs', 'give_verdict']),
    );
    // Connectors are readable by members; nothing for admins only (API keys, audit) is a tool.
    expect(names).toContain('list_connectors');
    const memberKey = await connect(await apiKey(a, 'member'));
    const keyTools = (await memberKey.listTools()).tools;
    // A member may not give verdicts (manager and up): the tool is not offered.
    expect(keyTools.map((tool) => tool.name)).not.toContain('give_verdict');
    const start = keyTools.find((tool) => tool.name === 'start_run')!;
    expect(Object.keys(start.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['draftVersionId', 'input']),
    );
    const get = keyTools.find((tool) => tool.name === 'get_run')!;
    expect(get.inputSchema.required).toEqual(['id']);
    expect(get.outputSchema?.type).toBe('object');
  });

  it('starts a run as an API key, audited with the key as actor on behalf of its creator', async () => {
    const agent = await connect(await apiKey(a, 'member'));
    const started = (await agent.callTool({
      name: 'start_run',
      arguments: { draftVersionId: aVersionId, input: { vendorId: 'V-1' } },
    })) as CallToolResult;
    expect(started.isError, text(started)).toBeFalsy();
    const run = started.structuredContent as Json;
    expect(run.id).toBeDefined();
    const got = (await agent.callTool({ name: 'get_run', arguments: { id: run.id } })) as CallToolResult;
    expect((got.structuredContent as Json).id).toBe(run.id);
    const events = okBody(
      await call(t, 'GET', '/v1/audit-events', {
        token: a.admin.accessToken,
        query: { action: 'run.started', limit: '100' },
      }),
      'audit',
    );
    const event = (events.data as Json[]).find((e) => (e.target as Json | null)?.id === run.id);
    expect(event?.actor).toMatchObject({ type: 'api_key', onBehalfOf: a.admin.userId });
  });

  it('names the field in a validation error, and keeps four-eyes on verdicts', async () => {
    const manager = await connect(a.manager.accessToken);
    const bad = (await manager.callTool({ name: 'start_run', arguments: { input: {} } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/VALIDATION_FAILED[\s\S]*(draftVersionId|templateId)/);
    const started = (await manager.callTool({
      name: 'start_run',
      arguments: { draftVersionId: aVersionId, input: {} },
    })) as CallToolResult;
    const runId = (started.structuredContent as Json).id as string;
    // Once it parks, the starter's own verdict is refused (four-eyes); another's is accepted.
    await waitFor(
      async () => (await manager.callTool({ name: 'get_run', arguments: { id: runId } })) as CallToolResult,
      (r) => r.structuredContent?.status === 'parked',
      'the run to park',
    );
    const parked = (await manager.callTool({ name: 'list_parked_runs', arguments: {} })) as CallToolResult;
    expect(((parked.structuredContent as Json).data as Json[]).map((r) => r.id)).toContain(runId);
    const own = (await manager.callTool({
      name: 'give_verdict',
      arguments: { id: runId, decision: 'approve' },
    })) as CallToolResult;
    expect(own.isError).toBe(true);
    const admin = await connect(a.admin.accessToken);
    const ok = (await admin.callTool({
      name: 'give_verdict',
      arguments: { id: runId, decision: 'approve' },
    })) as CallToolResult;
    expect(ok.isError, text(ok)).toBeFalsy();
  });

  it("answers another company's ids exactly like missing ones, on every tool that takes an id", async () => {
    const aRun = okBody(
      await call(t, 'POST', '/v1/runs', {
        token: a.member.accessToken,
        body: { draftVersionId: aVersionId, input: {} },
      }),
      'run',
    );
    // A's ids per fixture type; a tool with an id argument and no entry here fails this test (add its fixture).
    const board = okBody(
      await call(t, 'POST', '/v1/boards', { token: a.manager.accessToken, body: { name: 'MCP board' } }),
      'board',
    );
    const columns = okBody(
      await call(t, 'GET', `/v1/boards/${board.id as string}`, { token: a.member.accessToken }),
      'board',
    );
    const columnId = (columns.columns as Json[])[0].id as string;
    const card = okBody(
      await call(t, 'POST', `/v1/boards/${board.id as string}/cards`, {
        token: a.member.accessToken,
        body: { columnId, title: 'MCP card' },
      }),
      'card',
    );
    const page = okBody(
      await call(t, 'POST', '/v1/wiki/pages', {
        token: a.member.accessToken,
        body: { title: 'MCP page', body: 'x' },
      }),
      'page',
    );
    const aIds: Record<string, string> = {
      get_run: aRun.id as string,
      give_verdict: aRun.id as string,
      cancel_run: aRun.id as string,
      get_wiki_page: page.id as string,
      list_cards: board.id as string,
      create_card: board.id as string,
      move_card: card.id as string,
    };
    const extraArgs: Record<string, Json> = {
      give_verdict: { decision: 'approve' },
      create_card: { columnId: newId(), title: 'Probe' },
      move_card: { columnId: newId(), ifMatch: '"1"' },
    };
    const exempt: Record<string, string> = {
      get_template: 'the governed catalog is global (a random id: not found, below)',
    };
    const bClient = await connect(b.owner.accessToken);
    const offered = (await bClient.listTools()).tools;
    const withIds = offered.filter((tool) => (tool.inputSchema.required ?? []).includes('id'));
    const uncovered = withIds.map((tool) => tool.name).filter((n) => !(n in aIds) && !(n in exempt));
    expect(uncovered, 'tools that take an id with no cross-tenant case').toEqual([]);
    for (const [name, id] of Object.entries(aIds)) {
      const args = extraArgs[name] ?? {};
      const foreign = (await bClient.callTool({ name, arguments: { id, ...args } })) as CallToolResult;
      const missing = (await bClient.callTool({
        name,
        arguments: { id: newId(), ...args },
      })) as CallToolResult;
      expect(foreign.isError, name).toBe(true);
      expect(text(foreign), name).toBe(text(missing));
      expect(text(foreign)).toMatch(/^Not found/);
      expect(JSON.stringify(foreign)).not.toContain(a.companyId);
    }
    const template = (await bClient.callTool({
      name: 'get_template',
      arguments: { id: newId() },
    })) as CallToolResult;
    expect(text(template)).toMatch(/^Not found/);
  });

  it('counts a tool call once against the rate limit and holds no write slot of its own', async () => {
    const client = await connect(a.member.accessToken);
    // After connecting, the SDK's transport tries a GET /mcp stream in the background (405, counted): let it land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await call(t, 'GET', '/v1/runs', { token: a.member.accessToken });
    const remainingBefore = Number(before.headers['ratelimit-remaining']);
    await client.callTool({ name: 'list_runs', arguments: {} });
    const after = await call(t, 'GET', '/v1/runs', { token: a.member.accessToken });
    // The tool call's /mcp message counted once; the route it ran did not count again.
    expect(remainingBefore - Number(after.headers['ratelimit-remaining'])).toBe(2);
  });

  /** One raw JSON-RPC message to /mcp (what a hostile client sends; the SDK's Client would refuse to). */
  async function rpc(token: string, body: string): Promise<{ status: number; json: Json | undefined }> {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body,
    });
    const raw = await res.text();
    let json: Json | undefined;
    try {
      json = JSON.parse(raw) as Json;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  }
  const toolCall = (name: string, args: string) =>
    `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"${name}","arguments":${args}}}`;

  it('refuses a batch of tool calls (each call must be a counted request of its own)', async () => {
    const token = a.member.accessToken;
    const calls = Array.from({ length: 3 }, () => toolCall('list_runs', '{}'));
    const batch = await rpc(token, `[${calls.join(',')}]`);
    expect(batch.status).toBe(200);
    expect(batch.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(JSON.stringify(batch.json)).toMatch(/batches are not supported/);
    // A batch of one is that message.
    const one = await rpc(token, `[${toolCall('list_runs', '{}')}]`);
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.json)).not.toMatch(/"error"/);
  });

  it('answers hostile tool arguments with a tool error or invalid params, never a 500', async () => {
    const token = a.member.accessToken;
    // Not an object: JSON-RPC invalid params.
    for (const args of ['[]', '"text"', '42', 'true', '[{"id":"x"}]']) {
      const res = await rpc(token, toolCall('get_run', args));
      expect(res.status, args).toBe(200);
      expect((res.json?.error as Json | undefined)?.code, `${args}: ${JSON.stringify(res.json)}`).toBe(
        -32602,
      );
    }
    const toolError = async (name: string, args: string, pattern: RegExp) => {
      const res = await rpc(token, toolCall(name, args));
      expect(res.status, args).toBe(200);
      const result = res.json?.result as CallToolResult | undefined;
      expect(result?.isError, `${args}: ${JSON.stringify(res.json)}`).toBe(true);
      expect(text(result!)).toMatch(pattern);
    };
    // __proto__ and constructor keys: refused by name, never merged into anything.
    await toolError('get_run', '{"__proto__":{"id":"x"}}', /__proto__/);
    await toolError('list_runs', '{"__proto__":{"status":"parked"}}', /__proto__/);
    await toolError('start_run', `{"templateId":"${newId()}","input":{"__proto__":{"x":1}}}`, /__proto__/);
    await toolError('list_runs', '{"constructor":{"prototype":{"polluted":true}}}', /constructor/);
    expect(({} as Json).polluted).toBeUndefined();
    // NUL characters anywhere: a tool error naming the argument.
    await toolError('get_run', '{"id":"abc\\u0000def"}', /id/);
    await toolError('list_runs', '{"status":"parked\\u0000"}', /status/);
    await toolError('start_run', `{"templateId":"${newId()}","input":{"note":"a\\u0000b"}}`, /input/);
    await toolError('start_run', `{"templateId":"${newId()}","input":{"a\\u0000b":"x"}}`, /input/);
    // Wrong types for path parameters and an unknown tool stay tool errors too.
    await toolError('get_run', '{"id":{"$ne":null}}', /id/);
    await toolError('no_such_tool', '{}', /Unknown tool/);
    // Dot segments cannot move a call to another route (`list_cards` with `..` would read GET /v1/cards).
    await toolError('list_cards', '{"id":".."}', /id: is not an id/);
    await toolError('get_run', '{"id":"."}', /id: is not an id/);
    // A tool without a body refuses arguments it does not take, as a body refuses unknown fields.
    await toolError(
      'get_run',
      `{"id":"${newId()}","companyId":"${newId()}"}`,
      /companyId: is not an argument/,
    );
    // The server is still fine.
    const ok = await rpc(token, toolCall('list_runs', '{}'));
    expect((ok.json?.result as CallToolResult | undefined)?.isError).toBeFalsy();
  });
});
