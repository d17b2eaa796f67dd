/**
 * The input rules of a connector, as pure functions: the DTOs validate with them, the service re-checks the
 * combinations (scheme and secret), and the invoker relies on them when it builds a request.
 */

/** `crm.lookup`, `billing.invoices.create`: lowercase, dotted, at least two segments. */
export const TOOL_ID_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;
export const TOOL_ID_MAX = 100;
export const ENDPOINT_URL_MAX = 2048;
/** 8 KiB, counted in UTF-8 bytes. */
export const SECRET_MAX_BYTES = 8192;
export const HEADER_NAME_MAX = 100;

export function isToolId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= TOOL_ID_MAX && TOOL_ID_PATTERN.test(value);
}

/** An RFC 9110 header field name (a `token`). */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers a connector may not set through `header:<name>`: framing and hop-by-hop headers (request smuggling,
 * connection hijacking) and the ones Tenantry sets itself on every call.
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'accept',
  'accept-encoding',
  'user-agent',
  'idempotency-key',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

export type AuthScheme =
  { kind: 'none' } | { kind: 'bearer' } | { kind: 'basic' } | { kind: 'header'; name: string };

/** Parses `none`, `bearer`, `basic` or `header:<name>`; returns a message when invalid. */
export function parseAuthScheme(value: string): AuthScheme | { error: string } {
  if (value === 'none' || value === 'bearer' || value === 'basic') return { kind: value };
  if (!value.startsWith('header:')) {
    return { error: 'authScheme must be none, bearer, basic or header:<name>' };
  }
  const name = value.slice('header:'.length);
  if (name.length === 0 || name.length > HEADER_NAME_MAX || !HEADER_TOKEN.test(name)) {
    return { error: `header:<name> needs a valid HTTP header name (at most ${HEADER_NAME_MAX} characters)` };
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    return { error: `header:${name} is reserved (framing, hop-by-hop or set by Tenantry)` };
  }
  return { kind: 'header', name: name.toLowerCase() };
}

/** The stored form of a scheme: header names lower-cased (HTTP header names are case-insensitive). */
export function formatAuthScheme(scheme: AuthScheme): string {
  return scheme.kind === 'header' ? `header:${scheme.name}` : scheme.kind;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const VISIBLE_ASCII = /^[\u0020-\u007e]+$/;

/**
 * Why a secret is unusable with a scheme, or undefined when it is fine. Messages never contain the secret.
 * A secret travels in a header: no control characters (header injection); bearer and header values must be
 * visible ASCII; basic is `user:password` (any UTF-8, base64-encoded on the wire).
 */
export function secretProblem(scheme: AuthScheme, secret: string): string | undefined {
  if (secret.length === 0) return 'secret must not be empty (send null to clear it)';
  if (Buffer.byteLength(secret, 'utf8') > SECRET_MAX_BYTES) {
    return `secret must be at most ${SECRET_MAX_BYTES} bytes`;
  }
  if (CONTROL.test(secret)) return 'secret must not contain control characters';
  switch (scheme.kind) {
    case 'none':
      return 'authScheme none takes no secret';
    case 'basic': {
      const colon = secret.indexOf(':');
      return colon < 1 ? 'a basic secret is user:password (a non-empty user, then a colon)' : undefined;
    }
    case 'bearer':
    case 'header':
      return VISIBLE_ASCII.test(secret) ? undefined : 'secret must be printable ASCII for this authScheme';
  }
}

export interface EndpointParts {
  url: URL;
  /** Lower-case host name without IPv6 brackets and without a trailing dot (the same name). */
  hostname: string;
}

/**
 * Syntax of an endpoint URL, independent of any policy: an absolute `http:`/`https:` URL of at most 2048
 * characters, with a host, without credentials (`user:pass@`: use the secret) and without whitespace or control
 * characters (the URL parser would silently drop some of them). Returns a message when invalid.
 */
export function parseEndpointUrl(raw: string): EndpointParts | { error: string } {
  if (raw.length > ENDPOINT_URL_MAX)
    return { error: `endpointUrl must be at most ${ENDPOINT_URL_MAX} characters` };
  if (/\s/.test(raw) || CONTROL.test(raw)) {
    return { error: 'endpointUrl must not contain whitespace or control characters' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: 'endpointUrl must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: 'endpointUrl must use http or https' };
  }
  if (url.username !== '' || url.password !== '') {
    return { error: 'endpointUrl must not contain credentials; put them in the secret' };
  }
  if (url.port === '0') return { error: 'endpointUrl has an invalid port' };
  let hostname = url.hostname.toLowerCase();
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  if (hostname === '' || hostname.endsWith('.')) return { error: 'endpointUrl must name a host' };
  return { url, hostname };
}

/** `scheme://host:port` of an endpoint: a secret stays bound to it (see ConnectorsService.update). */
export function endpointOrigin(raw: string): string {
  const parsed = parseEndpointUrl(raw);
  return 'error' in parsed ? raw : parsed.url.origin;
}

/** What audit events say about an endpoint: origin and path, never the query (it may carry a token). */
export function endpointForAudit(raw: string): string {
  const parsed = parseEndpointUrl(raw);
  return 'error' in parsed ? '(invalid)' : `${parsed.url.origin}${parsed.url.pathname}`;
}
