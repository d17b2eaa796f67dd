import { Injectable } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
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

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly modules: ModulesContainer,
  ) {}

  /** Called once at start with the OpenAPI document (built from the DTOs): the tools' schemas come from it. */
  useDocument(doc: OpenAPIObject): void {
    this.tools = buildCatalog(doc, collectRoutes(this.modules), TOOLS);
  }

  /** The tools this context may call. */
  toolsFor(ctx: TenantContext): CatalogTool[] {
    const ability = abilityFor(ctx);
    return this.tools.filter(
      (t) =>
        (!t.auth.principals || t.auth.principals.includes(ctx.principalType)) &&
        ability.can(t.auth.action, t.auth.subject),
    );
  }

  serverFor(ctx: TenantContext, caller: CallerRequest): Server {
    const server = new Server({ name: 'tenantry', version: API_VERSION }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: this.toolsFor(ctx).map((t): Tool => ({
        name: t.spec.name,
        description: t.spec.description,
        inputSchema: t.inputSchema,
        ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const tool = this.toolsFor(ctx).find((t) => t.spec.name === request.params.name);
      if (!tool) return failure(`Unknown tool: ${request.params.name}`);
      return this.call(tool, request.params.arguments ?? {}, caller);
    });
    return server;
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
