/**
 * The Tenantry SDK: typed requests to the Tenantry API. Types come from `./schema.ts`, generated from the
 * server's openapi.json; requests go through openapi-fetch, so paths, parameters, bodies and answers are
 * checked by the compiler.
 */
import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** The request and response bodies of the API, by schema name (`Schemas['RunDto']`). */
export type Schemas = components['schemas'];

/** A typed client: `client.GET('/v1/runs/{id}', { params: { path: { id } } })`. */
export type TenantryClient = Client<paths>;

export interface TenantryClientOptions {
  /** Where the API lives, without `/v1` (`http://localhost:3000`). */
  baseUrl: string;
  /**
   * The credential sent as `Authorization: Bearer …`: an access JWT or an API key (`sk_live_…`). A function is
   * called on every request (to hand over a refreshed token). Omit it for the public routes.
   */
  token?: string | (() => string | undefined);
  /** Headers sent on every request. */
  headers?: Record<string, string>;
  /** A `fetch` of your own (tests, proxies, retries). */
  fetch?: ClientOptions['fetch'];
}

/** Creates a client of one Tenantry deployment, acting with one credential. */
export function createClient(options: TenantryClientOptions): TenantryClient {
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: options.headers,
    fetch: options.fetch,
  });
  const { token } = options;
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        const value = typeof token === 'function' ? token() : token;
        if (value && !request.headers.has('authorization')) {
          request.headers.set('authorization', `Bearer ${value}`);
        }
        return request;
      },
    });
  }
  return client;
}

/** One line of `GET /v1/audit-events/export`: an event, or the trailer that ends every export. */
export type AuditExportLine = Schemas['AuditEventDto'] | Schemas['AuditExportTrailerLineDto'];

/**
 * Splits an NDJSON audit export (`client.GET('/v1/audit-events/export', { parseAs: 'text' })`) into its events
 * and its trailer; an export without a trailer was cut short and is refused.
 */
export function parseAuditExport(ndjson: string): {
  events: Schemas['AuditEventDto'][];
  trailer: Schemas['AuditExportTrailerDto'];
} {
  const lines = ndjson
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditExportLine);
  const last = lines.pop();
  if (!last || !('trailer' in last))
    throw new Error('The audit export has no trailer line: it was cut short');
  return {
    events: lines.filter((line): line is Schemas['AuditEventDto'] => !('trailer' in line)),
    trailer: last.trailer,
  };
}
