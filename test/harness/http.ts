import type { Response } from 'supertest';
import type { TestApp } from './app.js';

export interface CallOptions {
  /** Bearer credential: an access JWT or an `sk_live_…` API key. */
  token?: string;
  /** Sent as JSON when given (also on DELETE). */
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as `X-Request-Id` (the app records it in the audit event's context). */
  requestId?: string;
}

const METHODS = {
  GET: 'get',
  HEAD: 'head',
  POST: 'post',
  PUT: 'put',
  PATCH: 'patch',
  DELETE: 'delete',
} as const;

/**
 * One request by method name (for suites that walk the route table). The body is always buffered as text, so
 * `res.text` holds whatever came back (JSON, problem+json, NDJSON) for "does it contain …" checks.
 */
export async function call(
  t: TestApp,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const name = METHODS[method as keyof typeof METHODS];
  if (!name) throw new Error(`call(): unsupported method ${method}`);
  let req = t.http()[name](path).buffer(true);
  if (options.query) req = req.query(options.query);
  if (options.token) req = req.auth(options.token, { type: 'bearer' });
  if (options.requestId) req = req.set('X-Request-Id', options.requestId);
  for (const [header, value] of Object.entries(options.headers ?? {})) req = req.set(header, value);
  return options.body === undefined ? await req : await req.send(options.body as object);
}

/** Everything a response shows a caller: status line aside, its headers and its body as text. */
export function visibleText(res: Response): string {
  return `${JSON.stringify(res.headers)}\n${res.text ?? ''}`;
}
