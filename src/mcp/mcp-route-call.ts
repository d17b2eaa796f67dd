import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyReply, FastifyRequest, InjectOptions } from 'fastify';
import type { CatalogTool } from './mcp-catalog.js';
import type { RouteResponse } from './mcp-route-reply.js';
import type { TransportRequest } from './mcp-route-runner.js';

/** What a tool call forwards of the transport's own request. */
export interface CallerRequest {
  /** The transport request's `Authorization` header, when it had one. */
  authorization: string | undefined;
  requestId: string;
  userAgent: string | undefined;
  /** The transport request's client address (so the route's audit events and limits see the caller's). */
  ip: string;
  /** The transport's request and reply, when the route may run inside them (`McpRouteRunner`). */
  transport?: TransportRequest;
}

type Json = Record<string, unknown>;

export function callerOf(request: FastifyRequest, reply?: FastifyReply): CallerRequest {
  return {
    ...(reply ? { transport: { request, reply } } : {}),
    authorization: request.headers.authorization,
    requestId: String(request.id),
    userAgent: request.headers['user-agent'],
    ip: request.ip,
  };
}

/** The request of a tool call's route: what `fastify.inject` would send, and the path parameters it carries. */
export interface RouteCall {
  method: string;
  /** The path with its query string. */
  url: string;
  /** `METHOD /path/:param`: the route as Fastify registered it. */
  route: string;
  /** The path parameters, as the route reads them. */
  params: Record<string, string>;
  headers: Record<string, string>;
  /** The body, as JSON text (routes that take one). */
  payload?: string;
  /** The caller's address. */
  remoteAddress: string;
}

/**
 * The request that runs `tool`'s route with `args`, as the caller: its credential, request id, user agent and
 * address. A tool error instead when a path parameter is missing.
 */
export function routeRequest(
  tool: CatalogTool,
  args: Json,
  caller: CallerRequest,
): RouteCall | CallToolResult {
  const values: Record<string, string> = {};
  for (const name of tool.pathParams) {
    const value = args[name];
    if (typeof value !== 'string' || value === '') return failure(`${name}: is required (a string id)`);
    // `.` and `..` would survive encoding as path segments and move the call to another route.
    if (value === '.' || value === '..') return failure(`${name}: is not an id`);
    values[name] = value;
  }
  // Made only when there is a query (most calls have none).
  let query = tool.spec.fixedQuery ? new URLSearchParams(tool.spec.fixedQuery) : undefined;
  const body: Json = {};
  for (const name of Object.keys(args)) {
    const value = args[name];
    if (tool.pathParams.includes(name) || (name === 'ifMatch' && tool.spec.ifMatch)) continue;
    if (tool.queryParams.includes(name)) {
      if (value !== undefined && value !== null) {
        query ??= new URLSearchParams();
        query.set(name, text(value, JSON.stringify(value)));
      }
    } else body[name] = value;
  }
  const hasBody = tool.method !== 'GET' && tool.method !== 'DELETE';
  // A route without a body has no place for other arguments: refused like unknown fields of a body.
  const unknown = hasBody ? [] : Object.keys(body);
  if (unknown.length > 0)
    return failure(unknown.map((name) => `${name}: is not an argument of this tool`).join('\n'));
  const path = tool.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]));
  const search = query?.toString() ?? '';
  // The caller's user agent, or none (light-my-request would otherwise name itself in the route's audit events).
  const headers: Record<string, string> = { 'x-request-id': caller.requestId };
  if (caller.userAgent !== undefined) headers['user-agent'] = caller.userAgent;
  if (caller.authorization !== undefined) headers.authorization = caller.authorization;
  if (tool.spec.ifMatch && typeof args.ifMatch === 'string') headers['if-match'] = args.ifMatch;
  if (hasBody) headers['content-type'] = 'application/json';
  return {
    method: tool.method,
    url: search ? `${path}?${search}` : path,
    route: tool.fastifyRoute,
    params: values,
    headers,
    remoteAddress: caller.ip,
    ...(hasBody ? { payload: JSON.stringify(body) } : {}),
  };
}

/** The same request for `fastify.inject`. */
export function injectOptions(call: RouteCall): InjectOptions {
  return {
    method: call.method,
    url: call.url,
    // No user-agent key at all when the caller sent none (light-my-request would name itself otherwise).
    headers: { 'user-agent': undefined, ...call.headers },
    remoteAddress: call.remoteAddress,
    // Options built here, not by a client: light-my-request need not validate them on every call.
    validate: false,
    ...(call.payload !== undefined ? { payload: call.payload } : {}),
  };
}

/** Whether `routeRequest` gave a tool error rather than a request. */
export function isToolError(request: RouteCall | CallToolResult): request is CallToolResult {
  return 'content' in request;
}

/** The tool's result from its route's response: the JSON once as text (older clients), once structured. */
export function toolResult(tool: CatalogTool, res: RouteResponse): CallToolResult {
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

/**
 * The JSON-RPC answer of a tool call, as text, when its route answered with success in JSON, serialized here from
 * the object it answered (`answer`): the same answer as `toolResult` gives once serialized, built from the route's
 * own JSON without parsing it back and serializing it again (it is `structuredContent` as it is). Null otherwise.
 */
export function toolAnswerJson(id: string | number, tool: CatalogTool, res: RouteResponse): string | null {
  const type = res.headers['content-type'];
  const answer = res.answer;
  if (res.statusCode >= 300 || answer === undefined || answer === null) return null;
  if (typeof type !== 'string' || !type.startsWith('application/json') || !res.body) return null;
  const text = JSON.stringify(`${summary(tool.spec.name, answer)}\n${res.body}`);
  const structured = tool.outputSchema && isObject(answer) ? `,"structuredContent":${res.body}` : '';
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":${text}}]${structured}}}`;
}

/** A tool this credential may not call reads as one that does not exist (`tools/list` does not offer it). */
export function unknownTool(name: string): CallToolResult {
  return failure(`Unknown tool: ${name}`);
}

export function failure(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

export function isObject(value: unknown): value is Json {
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
