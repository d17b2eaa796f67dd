import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';

type HeaderValue = string | string[] | number;

/** What a mirrored route answered a tool call: its status, headers and body, and the object it serialized. */
export interface RouteResponse {
  statusCode: number;
  /** Lower-case names. */
  headers: Record<string, HeaderValue>;
  /** The body as sent ('' when none). */
  body: string;
  /** The value the route answered, when it was serialized as JSON here (not for a text body). */
  answer?: unknown;
}

/**
 * The reply a mirrored route writes a tool call's answer to when it runs inside the transport's request
 * (`McpRouteRunner`): the part of Fastify's reply that Nest's adapter, the guards, the exception filter and the
 * controllers use (status, headers, `send`), kept apart from the transport's own reply, which answers in JSON-RPC.
 * Hand-written because Fastify builds its `Reply` only inside its router, for a request of its own. `raw` is the
 * transport's response: the call lives exactly as long as the request that carries it (`requestLifetime`).
 */
export class RouteReply {
  statusCode = 200;
  sent = false;
  private readonly own: Record<string, HeaderValue> = {};
  private response: RouteResponse | undefined;

  constructor(
    readonly raw: ServerResponse,
    readonly request: FastifyRequest,
  ) {}

  /** The answer, once the route sent one. */
  get answered(): RouteResponse | undefined {
    return this.response;
  }

  code(statusCode: number): this {
    this.statusCode = statusCode;
    return this;
  }

  status(statusCode: number): this {
    return this.code(statusCode);
  }

  header(name: string, value: HeaderValue): this {
    const key = name.toLowerCase();
    const before = this.own[key];
    // As Fastify does: Set-Cookie accumulates, every other header is replaced.
    if (key === 'set-cookie' && before !== undefined) {
      this.own[key] = [...[before].flat().map(String), ...[value].flat().map(String)];
    } else this.own[key] = value;
    return this;
  }

  headers(values: Record<string, HeaderValue>): this {
    for (const [name, value] of Object.entries(values)) this.header(name, value);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.own[name.toLowerCase()];
  }

  getHeaders(): Record<string, HeaderValue> {
    return { ...this.own };
  }

  hasHeader(name: string): boolean {
    return this.own[name.toLowerCase()] !== undefined;
  }

  removeHeader(name: string): this {
    delete this.own[name.toLowerCase()];
    return this;
  }

  type(contentType: string): this {
    return this.header('content-type', contentType);
  }

  /**
   * The route's answer, as Fastify would serialize it for a route without a response schema (the app sets no
   * serializer of its own): a string as it is (`text/plain` unless typed), anything else as JSON; a JSON type gets
   * `charset=utf-8` when it names none.
   */
  send(payload?: unknown): this {
    if (this.sent) return this;
    let body = '';
    let answer: unknown;
    const type = this.getHeader('content-type');
    if (typeof payload === 'string') {
      body = payload;
      if (type === undefined) this.own['content-type'] = 'text/plain; charset=utf-8';
    } else if (payload !== undefined) {
      const bytes =
        typeof payload === 'object' && payload !== null && ('pipe' in payload || Buffer.isBuffer(payload));
      if (bytes || (typeof type === 'string' && !type.includes('json'))) {
        // No mirrored route streams or sends bytes: refused, as Fastify refuses a payload it cannot send.
        throw new TypeError('A tool call answers with JSON or text only');
      }
      body = JSON.stringify(payload);
      answer = payload;
      if (type === undefined) this.own['content-type'] = 'application/json; charset=utf-8';
    }
    const set = this.getHeader('content-type');
    if (typeof set === 'string' && set.includes('json') && !/;\s*charset=/i.test(set)) {
      this.own['content-type'] = `${set}; charset=utf-8`;
    }
    this.sent = true;
    this.response = { statusCode: this.statusCode, headers: this.own, body, answer };
    return this;
  }
}
