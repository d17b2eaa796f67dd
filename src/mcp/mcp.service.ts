import { Injectable } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
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
import type { FastifyRequest } from 'fastify';
import { abilityFor } from '../authz/abilities.js';
import type { AbilityRule } from '../authz/authorize.decorator.js';
import { collectRoutes, routeKey } from '../authz/route-table.js';
import type { TransportCall } from '../authz/transport-call.js';
import { API_VERSION } from '../openapi.js';
import { currentStore, type TenantContext } from '../tenancy/request-store.js';
import { buildCatalog, type CatalogTool } from './mcp-catalog.js';
import {
  isObject,
  isToolError,
  routeRequest,
  toolResult,
  unknownTool,
  type CallerRequest,
  type RouteCall,
} from './mcp-route-call.js';
import type { RouteResponse } from './mcp-route-reply.js';
import { McpRouteRunner, type TransportRequest } from './mcp-route-runner.js';
import { screenMessage } from './mcp-screen.js';
import { TOOLS } from './mcp-tools.js';

export type { CallerRequest } from './mcp-route-call.js';

type Json = Record<string, unknown>;

/** The headers of the transport's request that decide whether it may answer a message itself. */
export interface TransportHeaders {
  accept?: string;
  protocolVersion?: string;
}

/** A plain `tools/call` of a tool that exists, its route request built (see `McpService.plainToolCall`). */
export interface PlainToolCall {
  id: string | number;
  tool: CatalogTool;
  request: RouteCall;
}

/** The transport's own route (`McpController.message`): its rule is checked on every tool call. */
const TRANSPORT_ROUTE = 'POST /mcp';

/**
 * The MCP server: one per message (stateless Streamable HTTP), bound to the caller's verified context. `tools/list`
 * offers the tools whose route the caller's ability allows; `tools/call` runs the mirrored route in process with
 * the caller's own credential, request id and address, so the guard, the abilities, row-level security,
 * validation, audit and rate limits are exactly the route's: the transport adds no rule of its own beyond its
 * route's `use Mcp`, which the guard checks on the route's request (`transport-call.ts`). A plain `tools/call` is
 * answered before the transport's Nest route (`mcp-fast-path.ts`); every other message goes through it.
 */
@Injectable()
export class McpService {
  private tools: CatalogTool[] = [];
  private byName = new Map<string, CatalogTool>();
  /** The rule of the transport's own route (`use Mcp`), read from it at start. */
  private transportRule!: AbilityRule;
  /**
   * One JSON Schema validator for every per-message server: the SDK makes a new Ajv instance per `Server`
   * otherwise, which was the largest single cost of a stateless tool call (bench/mcp.ts, docs/benchmarks.md).
   */
  private readonly validator = new AjvJsonSchemaValidator();

  constructor(
    private readonly runner: McpRouteRunner,
    private readonly modules: ModulesContainer,
  ) {}

  /** Called once at start with the OpenAPI document (built from the DTOs): the tools' schemas come from it. */
  useDocument(doc: OpenAPIObject): void {
    const routes = collectRoutes(this.modules);
    this.tools = buildCatalog(doc, routes, TOOLS);
    this.byName = new Map(this.tools.map((t) => [t.spec.name, t]));
    const transport = routes.find((r) => routeKey(r) === TRANSPORT_ROUTE)?.auth;
    if (transport?.kind !== 'ability') throw new Error(`${TRANSPORT_ROUTE} must declare @Authorize`);
    this.transportRule = transport;
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
    if (!tool || !mayCall(ctx, abilityFor(ctx), tool)) return Promise.resolve(unknownTool(name));
    return this.call(ctx, tool, args, caller);
  }

  /**
   * The answer to one `tools/call` request on the transport's route, without building a server and a transport
   * for it: the same parameter validation (`CallToolRequestSchema`, -32602) and the same handler (`callTool`) as
   * the SDK server. Null when the message is anything else, or the request is one the transport must judge (a
   * protocol version it does not support, an `Accept` without both types): the SDK path handles those.
   */
  async answerToolCall(
    ctx: TenantContext,
    caller: CallerRequest,
    body: unknown,
    headers: TransportHeaders,
  ): Promise<object | null> {
    const message = toolCallMessage(body, headers);
    if (!message) return null;
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

  /**
   * The common case of an agent's traffic, which the transport answers before its own route
   * (`mcp-fast-path.ts`): one `tools/call` request whose params are a tool name that exists and, when present,
   * an arguments object (nothing else, so `CallToolRequestSchema` accepts it as it is), which the screen lets
   * through and whose path parameters are there. Null for anything else: the transport's route answers it
   * (authenticating first), exactly as before.
   */
  plainToolCall(body: unknown, headers: TransportHeaders, caller: CallerRequest): PlainToolCall | null {
    const message = toolCallMessage(body, headers);
    if (!message) return null;
    const params = message.params;
    if (!isObject(params) || typeof params.name !== 'string') return null;
    for (const key in params) if (key !== 'name' && key !== 'arguments') return null;
    const args = params.arguments === undefined ? {} : params.arguments;
    if (!isObject(args) || screenMessage(message) !== null) return null;
    const tool = this.byName.get(params.name);
    if (!tool) return null;
    const request = routeRequest(tool, args, caller);
    return isToolError(request) ? null : { id: message.id, tool, request };
  }

  /**
   * Runs the route of a tool call in process, as a transport call (the handle through which the guard counts it
   * once and checks the transport's rule before the route's: `transport-call.ts`), inside `transport` when given
   * (`McpRouteRunner`); `verified` when the transport's own request already authenticated and counted the caller.
   */
  async runRoute(
    request: RouteCall,
    transport?: TransportRequest,
    verified?: TenantContext,
  ): Promise<{ res: RouteResponse; call: TransportCall }> {
    const call: TransportCall = { rule: this.transportRule, verified };
    const res = await this.runner.run(request, call, transport);
    // The transport request's log line names the route and its status (a 500 inside is logged as an error).
    const store = currentStore();
    if (store && res.statusCode >= (store.toolCall?.status ?? 0)) {
      store.toolCall = { route: request.route, status: res.statusCode };
    }
    return { res, call };
  }

  /** A tool call inside a message the transport's route already authenticated and counted as `ctx`. */
  private async call(
    ctx: TenantContext,
    tool: CatalogTool,
    args: Json,
    caller: CallerRequest,
  ): Promise<CallToolResult> {
    const request = routeRequest(tool, args, caller);
    if (isToolError(request)) return request;
    const { res, call } = await this.runRoute(request, caller.transport, ctx);
    return call.notOffered ? unknownTool(tool.spec.name) : toolResult(tool, res);
  }
}

/** The request headers `answerToolCall` and `plainToolCall` judge a message by. */
export function transportHeaders(request: FastifyRequest): TransportHeaders {
  const protocolVersion = request.headers['mcp-protocol-version'];
  return {
    accept: request.headers.accept,
    protocolVersion: typeof protocolVersion === 'string' ? protocolVersion : undefined,
  };
}

/** A `tools/call` request the transport may answer itself (else null: the SDK judges it). */
function toolCallMessage(body: unknown, headers: TransportHeaders): (Json & { id: string | number }) | null {
  if (!isObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return null;
  if (typeof body.id !== 'string' && typeof body.id !== 'number') return null;
  const accept = headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return null;
  if (
    headers.protocolVersion !== undefined &&
    !SUPPORTED_PROTOCOL_VERSIONS.includes(headers.protocolVersion)
  ) {
    return null;
  }
  return body as Json & { id: string | number };
}

/** Whether this context may call `tool`: its route's principals and its ability's rule. */
function mayCall(ctx: TenantContext, ability: ReturnType<typeof abilityFor>, tool: CatalogTool): boolean {
  return (
    (!tool.auth.principals || tool.auth.principals.includes(ctx.principalType)) &&
    ability.can(tool.auth.action, tool.auth.subject)
  );
}
