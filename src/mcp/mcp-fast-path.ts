import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { fastifyPath } from './mcp-catalog.js';
import { callerOf, toolAnswerJson, toolResult, unknownTool } from './mcp-route-call.js';
import type { RouteResponse } from './mcp-route-reply.js';
import { McpRouteRunner } from './mcp-route-runner.js';
import { TOOLS } from './mcp-tools.js';
import { McpService, transportHeaders } from './mcp.service.js';

/** Headers of the route's response that belong to its own transfer, not to the answer the transport repeats. */
const OWN_TRANSFER = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);

/**
 * The common message, a plain `tools/call` (`McpService.plainToolCall`), answered before the transport's Nest
 * route: a preHandler of `POST /mcp`. The route the tool mirrors then runs inside this request
 * (`McpRouteRunner`) as the only part of the call that authenticates and counts (the guard checks the transport's
 * rule `use Mcp` on it first, see `transport-call.ts`), instead of a transport request that authenticated and
 * counted through the whole Nest pipeline, then an inner request that authenticated again: the tool call costs the
 * route plus the transport's JSON-RPC framing (docs/benchmarks.md, "MCP tool call against its route").
 *
 * What the transport's route answers is unchanged: a refusal before the transport's rule passed (no or a bad
 * credential, 401 with `WWW-Authenticate`; the rate limit, 429; no `use Mcp`, 403) is the route request's answer
 * as it is, the same status, headers and problem body the transport's own request got; every other message, and a
 * tool call the route request could not even start, goes on to the Nest route (which authenticates first).
 */
@Injectable()
export class McpFastPath {
  constructor(
    private readonly mcp: McpService,
    private readonly tenancy: TenancyService,
    private readonly runner: McpRouteRunner,
  ) {}

  /** Attaches the fast path to `POST /mcp` when it is registered: call before the app is initialised. */
  install(fastify: FastifyInstance): void {
    const mirrored = new Set(TOOLS.map((t) => fastifyPath(t.route)));
    fastify.addHook('onRoute', (route) => {
      const methods = [route.method].flat();
      if (route.url === '/mcp' && methods.includes('POST')) {
        const own = route.preHandler === undefined ? [] : [route.preHandler].flat();
        route.preHandler = [...own, (request, reply) => this.answer(request, reply)];
      } else if (methods.some((method) => mirrored.has(`${method} ${route.url}`))) {
        // Its handler, to run a tool call's route inside the transport's request.
        this.runner.remember(route, fastify.initialConfig.bodyLimit ?? 1024 * 1024);
      }
    });
  }

  private async answer(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const plain = this.mcp.plainToolCall(request.body, transportHeaders(request), callerOf(request));
    if (!plain) return;
    const { res, call } = await this.mcp.runRoute(plain.request, { request, reply });
    // Refused before its guard ran (by Fastify itself, through inject): nobody was authenticated, the transport's
    // route answers.
    if (!call.taken) return;
    // The transport request's access log names the company, as when its own guard scoped it.
    if (call.tenant) this.tenancy.enter(call.tenant);
    if (!call.admitted) {
      await reply
        .status(res.statusCode)
        .headers(headersOf(res, () => true))
        .send(res.body);
      return;
    }
    const answer =
      (!call.notOffered && toolAnswerJson(plain.id, plain.tool, res)) ||
      JSON.stringify({
        jsonrpc: '2.0',
        id: plain.id,
        result: call.notOffered ? unknownTool(plain.tool.spec.name) : toolResult(plain.tool, res),
      });
    await reply
      .status(200)
      .headers(headersOf(res, (name) => name.startsWith('ratelimit')))
      .type('application/json')
      .send(answer);
  }
}

/** The route response's headers that `keep` selects, less those of its own transfer. */
function headersOf(
  res: RouteResponse,
  keep: (name: string) => boolean,
): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && !OWN_TRANSFER.has(name) && keep(name)) out[name] = value;
  }
  return out;
}
