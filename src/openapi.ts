import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ProblemDto } from './common/dto/problem.dto.js';

// The spec types of @nestjs/swagger are not exported by name; reach them through the document's type.
type PathItemObject = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItemObject['get']>;
type ResponseObject = Exclude<NonNullable<OperationObject['responses'][string]>, ReferenceObject>;
type HeaderObject = Exclude<NonNullable<ResponseObject['headers']>[string], ReferenceObject>;
type SchemaObject = Exclude<NonNullable<HeaderObject['schema']>, ReferenceObject>;
interface ReferenceObject {
  $ref: string;
}

export const API_VERSION = '1.0.0';

/** The longest header value we declare (every one is short: ids, numbers, a few policies). */
const HEADER_MAX = 256;

/**
 * Response headers, declared once under `components.headers` and referenced from the responses that carry them
 * (API.md: every response header is declared).
 */
const HEADERS: Record<string, HeaderObject> = {
  'X-Request-Id': {
    description:
      'The request id (echoed when the client sent a well-formed one); quote it when reporting a problem',
    schema: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
  'RateLimit-Policy': {
    description:
      'The rate-limit policies that apply (draft-ietf-httpapi-ratelimit-headers), e.g. `"company";q=600;w=60`, ' +
      'or `"company";q=600;w=60, "user";q=60;w=60` when the company sets a per-person limit: `q` requests per `w` seconds',
    schema: { type: 'string', maxLength: HEADER_MAX },
  },
  RateLimit: {
    description:
      'The policy nearest its limit (draft-ietf-httpapi-ratelimit-headers), e.g. `"company";r=599;t=42` or ' +
      '`"user";r=3;t=12`: `r` requests left, `t` seconds until the window resets',
    schema: { type: 'string', maxLength: HEADER_MAX },
  },
  'RateLimit-Limit': {
    description: 'Older form: requests allowed per window, of the policy `RateLimit` names',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2_147_483_647 },
  },
  'RateLimit-Remaining': {
    description: 'Older form: requests left in the window',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2_147_483_647 },
  },
  'RateLimit-Reset': {
    description: 'Older form: seconds until the window resets',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2_678_400 },
  },
};

/** Carried by every response (set in the request hooks and the guard, src/app.ts). */
const EVERY_RESPONSE = [
  'X-Request-Id',
  'RateLimit-Policy',
  'RateLimit',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];
/** Statuses whose answers carry `Retry-After` (rate limit, budget, database unavailable). */
const RETRY_AFTER_STATUSES = new Set(['429', '503']);
const BODY_METHODS = new Set(['post', 'put', 'patch']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const problemResponse = (description: string): ResponseObject => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${ProblemDto.name}` } } },
});

const isRef = (value: unknown): value is ReferenceObject =>
  typeof value === 'object' && value !== null && '$ref' in value;

function resolveSchema(document: OpenAPIObject, schema: SchemaObject | ReferenceObject): SchemaObject {
  if (!isRef(schema)) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return (document.components?.schemas?.[name] ?? {}) as SchemaObject;
}

/** Bounds that follow from a string's format, so a client and the limits agree without repeating them. */
const FORMAT_MAX_LENGTH: Record<string, number> = { uuid: 36, 'date-time': 35 };

function boundFormattedStrings(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(boundFormattedStrings);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as SchemaObject;
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('string') && schema.format && schema.maxLength === undefined) {
    const max = FORMAT_MAX_LENGTH[schema.format];
    if (max !== undefined) schema.maxLength = max;
  }
  for (const value of Object.values(node)) boundFormattedStrings(value);
}

/**
 * Bounds the transport itself enforces, for schemas whose DTO declares none (mostly responses): no string or array
 * of a request or response can exceed the largest body a route accepts (the wiki's 2 MiB + 64 KiB), and integers
 * are JavaScript's safe integers. A DTO's own tighter limit always wins; these only close what is left open.
 */
const TRANSPORT_MAX_STRING = 4 * 1024 * 1024;
const TRANSPORT_MAX_ITEMS = 100_000;

function boundByTransport(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(boundByTransport);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as SchemaObject;
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const open = schema.enum === undefined && (schema as { const?: unknown }).const === undefined;
  if (types.includes('string') && open && schema.maxLength === undefined)
    schema.maxLength = TRANSPORT_MAX_STRING;
  if (types.includes('array') && schema.maxItems === undefined) schema.maxItems = TRANSPORT_MAX_ITEMS;
  if (types.includes('integer') && open) {
    schema.format ??= 'int64';
    schema.minimum ??= Number.MIN_SAFE_INTEGER;
    schema.maximum ??= Number.MAX_SAFE_INTEGER;
  }
  for (const value of Object.values(node)) boundByTransport(value);
}

/**
 * What every operation has in common, added in one place rather than on each route:
 * - the response headers of API.md (request id and rate limits on every response, `Retry-After` on 429/503);
 * - 413 and 415 on operations that take a body (the body parsers answer them, src/common/json-body.ts);
 * - `security: []` on public routes (they declare no scheme: anyone may call them);
 * - `requestBody.required: false` when every field of the body is optional (no body is then accepted);
 * - `maxLength` of strings whose format fixes it (uuid, date-time), and the transport's bounds where a schema
 *   declares none (`boundByTransport`).
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    headers: { ...document.components?.headers, ...HEADERS },
  };
  const ref = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (!operation.security) operation.security = [];
      const body = operation.requestBody;
      if (body && !isRef(body)) {
        const schemas = Object.values(body.content ?? {}).map(
          (m) => m.schema as SchemaObject | ReferenceObject,
        );
        const allOptional = schemas.every(
          (s) => s && !resolveSchema(document, s).required?.length && !resolveSchema(document, s).oneOf,
        );
        if (allOptional) body.required = false;
      }
      if (body || BODY_METHODS.has(method)) {
        operation.responses['413'] ??= problemResponse('The request body exceeds 1 MiB (PAYLOAD_TOO_LARGE)');
        operation.responses['415'] ??= problemResponse(
          'The body is not application/json (or a form where accepted) (UNSUPPORTED_MEDIA_TYPE)',
        );
      }
      for (const [status, response] of Object.entries(operation.responses) as [
        string,
        ResponseObject | ReferenceObject | undefined,
      ][]) {
        if (!response || isRef(response)) continue;
        const names = [...EVERY_RESPONSE, ...(RETRY_AFTER_STATUSES.has(status) ? ['Retry-After'] : [])];
        response.headers = {
          ...response.headers,
          ...Object.fromEntries(names.map((name) => [name, ref(name)])),
        };
      }
    }
  }
  const tags = new Set(
    Object.values(document.paths).flatMap((item) => METHODS.flatMap((method) => item[method]?.tags ?? [])),
  );
  document.tags = [...tags].sort().map((name) => ({ name }));
  boundFormattedStrings(document);
  boundByTransport(document);
  return document;
}

/** The OpenAPI 3.1 document: stable operationIds (`Connectors_list`), both security schemes, every error. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tenantry API')
    .setDescription(
      'Multi-tenant process automation. Every call is scoped to the company of the verified credential; ' +
        "another company's id answers 404 exactly like a missing one. Errors are RFC 9457 problem+json.",
    )
    .setVersion(API_VERSION)
    .addServer('http://localhost:3000', 'Local development (`npm start`); use your deployment URL')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'Access JWT: short-lived, HS256 only, issuer and audience checked, per RFC8725 (JWT best practices)',
      },
      'bearer',
    )
    .addSecurity('apiKey', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'sk_live_…',
      description: 'API key, sent as `Authorization: Bearer sk_live_…`',
    })
    .addOAuth2(
      {
        type: 'oauth2',
        description:
          'Client credentials of an application: a short-lived access JWT, validated per RFC8725 (JWT best practices)',
        flows: { clientCredentials: { tokenUrl: '/v1/oauth/token', scopes: {} } },
      },
      'oauth2',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey: string, methodKey: string) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  document.info.license = { name: 'Proprietary (UNLICENSED)' };
  // A public API (OWASP API9: every server declares its audience).
  document.servers = (document.servers ?? []).map((server) => ({ ...server, 'x-internal': false }));
  return completeDocument(document);
}
