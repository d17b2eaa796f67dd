import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  LightMyRequestResponse,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify';
import { runTransportCall, type TransportCall } from '../authz/transport-call.js';
import { injectOptions, type RouteCall } from './mcp-route-call.js';
import { RouteReply, type RouteResponse } from './mcp-route-reply.js';

/** The transport's own request, which a tool call's route runs inside. */
export interface TransportRequest {
  request: FastifyRequest;
  reply: FastifyReply;
}

interface MirroredRoute {
  /** The handler Nest registered with Fastify: guards, pipes, the controller, the exception filter. */
  handler: RouteHandlerMethod;
  options: FastifyRequest['routeOptions'];
}

/**
 * Runs the route a tool mirrors, as the only request of the call that authenticates and counts (the guard takes
 * the `TransportCall` handle, see `transport-call.ts`).
 *
 * Inside the transport's request: the route's Nest handler — the very function Fastify calls for it over HTTP, so
 * its guards, pipes, interceptors, filters and status are exactly the route's — is called with a request for that
 * route (method, URL, the path parameters and query as Fastify's router reads them from the URL, the caller's
 * credential and address, the JSON body parsed from its text as the route's parser would) and a reply of its own
 * (`RouteReply`), without a second Fastify lifecycle (light-my-request's fake request and response, a second
 * routing, the hooks and the access log line: ~1.5× a fast read by themselves, docs/benchmarks.md). The request's
 * store (request id, address, user agent, the tenant the guard enters) is the transport request's own.
 *
 * Through `fastify.inject` otherwise: when there is no transport request to run in, or Fastify would not take the
 * request to the tool's route's handler (a parameter longer than the router accepts, a static route of the same
 * shape, a body over the route's limit), so that such a call answers exactly what that request gets.
 */
@Injectable()
export class McpRouteRunner {
  private readonly routes = new Map<string, MirroredRoute>();

  constructor(private readonly adapter: HttpAdapterHost) {}

  /** From an `onRoute` hook: remembers a mirrored route's handler (before the app is initialised). */
  remember(route: RouteOptions, bodyLimit: number): void {
    for (const method of [route.method].flat()) {
      this.routes.set(`${method} ${route.url}`, {
        handler: route.handler,
        options: {
          method,
          url: route.url,
          bodyLimit: route.bodyLimit ?? bodyLimit,
          handlerTimeout: route.handlerTimeout ?? 0,
          attachValidation: route.attachValidation ?? false,
          logLevel: route.logLevel ?? '',
          exposeHeadRoute: route.exposeHeadRoute ?? true,
          prefixTrailingSlash: route.prefixTrailingSlash ?? 'both',
          handler: route.handler,
          config: { ...route.config, url: route.url, method },
          schema: route.schema,
        },
      });
    }
  }

  /** Runs `call`'s route as `transport` (its handle `handle`), and what it answered. */
  async run(call: RouteCall, handle: TransportCall, transport?: TransportRequest): Promise<RouteResponse> {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const route = transport && this.routes.get(call.route);
    const found = route ? fastify.findRoute({ method: call.method, url: call.url }) : null;
    if (!transport || !route || !found || !sameParams(found.params, call.params) || tooLarge(call, route)) {
      return fromInject(await inject(fastify, call, handle));
    }
    const request = new RouteRequest(
      transport.request,
      route.options,
      call,
      found.params,
      found.searchParams,
    ) as unknown as FastifyRequest;
    const reply = new RouteReply(transport.reply.raw, request);
    await runTransportCall(handle, () =>
      route.handler.call(fastify, request, reply as unknown as FastifyReply),
    );
    const answered = reply.answered;
    if (!answered) throw new Error(`${call.route} answered nothing`);
    return answered;
  }
}

/**
 * The route's request inside the transport's: the route's method, URL, options, headers, parameters, query and body;
 * the transport request's identity (id, address, connection, logger). A class of one shape rather than an object
 * deriving from the transport's request (`Object.create`): every derived object would have a map of its own in V8,
 * and every place that reads a request would turn megamorphic (the guard's reads measurably slowed).
 */
class RouteRequest {
  /** Set by the JWT guard, as on any request. */
  user: unknown = undefined;
  readonly method: string;
  readonly url: string;
  readonly originalUrl: string;
  readonly headers: Record<string, string>;
  readonly ip: string;
  readonly body: unknown;

  constructor(
    private readonly transport: FastifyRequest,
    readonly routeOptions: FastifyRequest['routeOptions'],
    call: RouteCall,
    readonly params: Record<string, string | undefined>,
    readonly query: Record<string, string>,
  ) {
    this.method = call.method;
    this.url = call.url;
    this.originalUrl = call.url;
    this.headers = call.headers;
    this.ip = call.remoteAddress;
    // The route's JSON parser would give exactly this (the arguments passed the transport's screen).
    this.body = call.payload === undefined ? undefined : (JSON.parse(call.payload) as unknown);
  }

  get id(): FastifyRequest['id'] {
    return this.transport.id;
  }

  get raw(): FastifyRequest['raw'] {
    return this.transport.raw;
  }

  get socket(): FastifyRequest['socket'] {
    return this.transport.socket;
  }

  get log(): FastifyRequest['log'] {
    return this.transport.log;
  }

  get server(): FastifyRequest['server'] {
    return this.transport.server;
  }
}

/** A body over the route's limit, which its parser would refuse (413) before the guard: only inject answers that. */
function tooLarge(call: RouteCall, route: MirroredRoute): boolean {
  return call.payload !== undefined && Buffer.byteLength(call.payload) > route.options.bodyLimit;
}

function sameParams(found: Record<string, string | undefined>, expected: Record<string, string>): boolean {
  const names = Object.keys(expected);
  return Object.keys(found).length === names.length && names.every((name) => found[name] === expected[name]);
}

function inject(
  fastify: FastifyInstance,
  call: RouteCall,
  handle: TransportCall,
): Promise<LightMyRequestResponse> {
  // The callback form dispatches at once, inside the call's context; the promise form would start when awaited,
  // which may be outside it (light-my-request's chain starts on its first `then`).
  return runTransportCall(
    handle,
    () =>
      new Promise<LightMyRequestResponse>((resolve, reject) => {
        fastify.inject(injectOptions(call), (error, response) =>
          error || !response ? reject(error ?? new Error('No response')) : resolve(response),
        );
      }),
  );
}

function fromInject(res: LightMyRequestResponse): RouteResponse {
  const headers: RouteResponse['headers'] = {};
  for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = value;
  return { statusCode: res.statusCode, headers, body: res.body };
}
