import { Injectable } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { abilityFor } from '../authz/abilities.js';
import { collectRoutes } from '../authz/route-table.js';
import { INTERNAL_CALL_HEADER, INTERNAL_CALL_SECRET } from '../common/internal-call.js';
import { API_VERSION } from '../openapi.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { buildCatalog, type CatalogTool } from './mcp-catalog.js';
import { TOOLS } from './mcp-tools.js';

/** What a tool call forwards of the transport's own request. */
export interface CallerRequest {
  authorization: string;
  requestId: string;
  userAgent?: string;
}

type Json = Record<string, unknown>;

/**
 * The MCP server: one per message (stateless Streamable HTTP), bound to the caller's verified context. `tools/list`
 * offers the tools whose route the caller's ability allows; `tools/call` runs the mirrored route in process with
 * the caller's own credential and request id, so the guard, the abilities, row-level security, validation, audit
 * and rate limits are exactly the route's: the transport adds no rule of its own.
 */
@Injectable()
export class McpService {
  private tools: CatalogTool[] = [];
  private byName = new Map<string, CatalogTool>();
  /**
   * One JSON Schema validator for every per-message server: the SDK makes a new Ajv instance per `Server`
   * otherwise, which was the largest single cost of a stateless tool call (bench/mcp.ts, docs/benchmarks.md).
   */
  private readonly validator = new AjvJsonSchemaValidator();

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly modules: ModulesContainer,
  ) {}

  /** Called once at start with the OpenAPI document (built from the DTOs): the tools' schemas come from it. */
  useDocument(doc: OpenAPIObject): void {
    this.tools = buildCatalog(doc, collectRoutes(this.modules), TOOLS);
    this.byName = new Map(this.tools.map((t) => [t.spec.name, t]));
  }

  /** The tools this context may call. */
  toolsFor(ctx: TenantContext): CatalogTool[] {
    const ability = abilityFor(ctx);
    return this.tools.filter((t) => mayCall(ctx, ability, t));
  }

  serverFor(ctx: TenantContext, caller: CallerRequest): Server {
    const server = new Server(
      { name: 'tenantry', version: API_VERSION },
      { capabilities: { tools: {} }, jsonSchemaValidator: this.validator },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: this.toolsFor(ctx).map((t): Tool => ({
        name: t.spec.name,
        description: t.spec.description,
        inputSchema: t.inputSchema,
        ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, (request) =>
      this.callTool(ctx, caller, request.params.name, request.params.arguments ?? {}),
    );
    return server;
  }

  /** `tools/call`: the tool of that name this context may call, run as its route; else a tool error. */
  callTool(ctx: TenantContext, caller: CallerRequest, name: string, args: Json): Promise<CallToolResult> {
    // One tool's rule, not the whole list's: a call is the hot path (a tool not allowed reads as unknown).
    const tool = this.byName.get(name);
    if (!tool || !mayCall(ctx, abilityFor(ctx), tool))
      return Promise.resolve(failure(`Unknown tool: ${name}`));
    return this.call(tool, args, caller);
  }

  /**
   * The answer to one plain `tools/call` request, without building a server and a transport for it (the
   * common case of an agent's traffic, and what made a tool call cost several times its route): the same
   * parameter validation (`CallToolRequestSchema`, -32602) and the same handler (`callTool`) as the SDK
   * server. Null when the message is anything else, or the request is one the transport must judge (a
   * protocol version it does not support, an `Accept` without both types): the SDK path handles those.
   */
  async answerToolCall(
    ctx: TenantContext,
    caller: CallerRequest,
    body: unknown,
    headers: { accept?: string; protocolVersion?: string },
  ): Promise<object | null> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
    const message = body as Json;
    if (message.jsonrpc !== '2.0' || message.method !== 'tools/call') return null;
    if (typeof message.id !== 'string' && typeof message.id !== 'number') return null;
    const accept = headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return null;
    if (
      headers.protocolVersion !== undefined &&
      !SUPPORTED_PROTOCOL_VERSIONS.includes(headers.protocolVersion)
    ) {
      return null;
    }
    const parsed = CallToolRequestSchema.safeParse(message);
    if (!parsed.success) {
      return {
        jsonrpc: '2.0',
        id: message.id,
        error: { code: ErrorCode.InvalidParams, message: `Invalid params: ${parsed.error.message}` },
      };
    }
    const result = await this.callTool(
      ctx,
      caller,
      parsed.data.params.name,
      parsed.data.params.arguments ?? {},
    );
    return { jsonrpc: '2.0', id: message.id, result };
  }

  private async call(tool: CatalogTool, args: Json, caller: CallerRequest): Promise<CallToolResult> {
    const values: Record<string, string> = {};
    for (const name of tool.pathParams) {
      const value = args[name];
      if (typeof value !== 'string' || value === '') return failure(`${name}: is required (a string id)`);
      values[name] = value;
    }
    const query = new URLSearchParams(tool.spec.fixedQuery);
    const body: Json = {};
    for (const [name, value] of Object.entries(args)) {
      if (tool.pathParams.includes(name) || name === 'ifMatch') continue;
      if (tool.queryParams.includes(name)) {
        if (value !== undefined && value !== null) query.set(name, text(value, JSON.stringify(value)));
      } else body[name] = value;
    }
    const path = tool.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]));
    const search = query.toString();
    const headers: Record<string, string> = {
      authorization: caller.authorization,
      'x-request-id': caller.requestId,
      [INTERNAL_CALL_HEADER]: INTERNAL_CALL_SECRET,
      ...(caller.userAgent ? { 'user-agent': caller.userAgent } : {}),
    };
    if (tool.spec.ifMatch && typeof args.ifMatch === 'string') headers['if-match'] = args.ifMatch;
    const hasBody = tool.method !== 'GET' && tool.method !== 'DELETE';
    if (hasBody) headers['content-type'] = 'application/json';
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const res = await fastify.inject({
      method: tool.method as 'GET' | 'POST',
      url: search ? `${path}?${search}` : path,
      headers,
      ...(hasBody ? { payload: JSON.stringify(body) } : {}),
    });
    const parsed = parse(res.body);
    if (res.statusCode >= 400) return failure(problemText(res.statusCode, parsed));
    if (res.statusCode === 204 || parsed === undefined) {
      return { content: [{ type: 'text', text: `${tool.spec.name}: done` }] };
    }
    return {
      content: [{ type: 'text', text: `${summary(tool.spec.name, parsed)}\n${res.body}` }],
      ...(tool.outputSchema && isObject(parsed) ? { structuredContent: parsed } : {}),
    };
  }
}

/** Whether this context may call `tool`: its route's principals and its ability's rule. */
function mayCall(ctx: TenantContext, ability: ReturnType<typeof abilityFor>, tool: CatalogTool): boolean {
  return (
    (!tool.auth.principals || tool.auth.principals.includes(ctx.principalType)) &&
    ability.can(tool.auth.action, tool.auth.subject)
  );
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function failure(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;

/** A tool error from the route's problem: a denied or foreign id reads "not found", exactly like a missing one. */
function problemText(status: number, problem: unknown): string {
  if (!isObject(problem)) return `Request failed (${status})`;
  if (status === 404) return `Not found: ${text(problem.detail, 'no such resource')}`;
  const fields = Array.isArray(problem.errors)
    ? (problem.errors as Json[]).map((e) => `${text(e.field)}: ${text(e.message)}`)
    : [];
  const head = `${text(problem.code, 'ERROR')}: ${text(problem.detail, text(problem.title, String(status)))}`;
  return [head, ...fields].join('\n');
}

function summary(name: string, value: unknown): string {
  if (isObject(value) && Array.isArray(value.data)) return `${name}: ${value.data.length} result(s)`;
  if (isObject(value)) {
    const parts = ['id', 'status', 'name', 'title'].filter((k) => typeof value[k] === 'string');
    return `${name}: ${parts.map((k) => `${k}=${String(value[k])}`).join(' ')}`.trim();
  }
  return `${name}: ok`;
}
