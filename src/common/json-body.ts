import type { FastifyInstance } from 'fastify';
import { AppError } from './errors/app-error.js';
import { hasNul } from './nul.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 64;

/**
 * A route whose bodies may be larger than {@link BODY_LIMIT_BYTES} says so with
 * `@RouteConfig({ bodyLimit: bytes })` (from `@nestjs/platform-fastify`); `registerBodyParsers` applies it as the
 * route's own Fastify `bodyLimit`, which the JSON parser then enforces instead of the default. Used by the wiki
 * (a page body may be 1 MiB of text, which JSON escaping makes larger).
 */
export interface RouteBodyLimit {
  bodyLimit?: number;
  /**
   * A JSON-RPC endpoint (`/mcp`) answers every refusal in JSON-RPC terms: the parser leaves prototype keys and NUL
   * characters in place (`JSON.parse` makes them plain own properties, nothing is polluted) and the endpoint
   * refuses the message itself, before anything reads it (`hostileJson`).
   */
  jsonRpc?: boolean;
}

/** Nesting depth of a JSON text, counted without parsing (strings are skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

export function hasPrototypeKeys(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasPrototypeKeys);
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return true;
    if (hasPrototypeKeys((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';
const NUL_KEY_MESSAGE = 'must not have a key containing a NUL character (\\u0000)';

/**
 * The first place of a parsed body where a string (or an object key) holds a NUL: the dotted path of the string,
 * or of the object whose key does (`body` for the document itself). PostgreSQL can store no NUL in text or jsonb,
 * so such a value would otherwise fail deep inside a transaction (or, worse, later in a worker).
 */
export function findNul(value: unknown, path = ''): { field: string; message: string } | null {
  if (typeof value === 'string')
    return hasNul(value) ? { field: path || 'body', message: NUL_MESSAGE } : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (hasNul(key)) return { field: path || 'body', message: NUL_KEY_MESSAGE };
    const found = findNul(item, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}

/**
 * Replaces Fastify's JSON parser (1 MiB limit, nesting depth ≤ 64, no prototype-polluting keys, no NUL in any
 * string or key, a clear 400 for malformed JSON) and adds `application/x-www-form-urlencoded` (the OAuth token
 * endpoint, RFC 6749).
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  // Only JSON and forms: any other content type answers 415.
  fastify.removeAllContentTypeParsers();
  fastify.addHook('onRoute', (route) => {
    const config: RouteBodyLimit | undefined = route.config;
    const limit = config?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const out: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [key, value] of new URLSearchParams(text)) {
        if (key in out) {
          // Forms only reach the OAuth token endpoint: answer in its terms too (RFC 6749 §5.2).
          const detail = `Parameter ${key} is repeated`;
          const oauth = { error: 'invalid_request', error_description: detail };
          return done(new AppError(400, 'VALIDATION_FAILED', detail, undefined, undefined, oauth), undefined);
        }
        out[key] = value;
      }
      done(null, { ...out });
    },
  );
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      if (jsonDepth(text) > MAX_JSON_DEPTH) {
        return done(
          new AppError(
            400,
            'VALIDATION_FAILED',
            `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`,
          ),
          undefined,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return done(new AppError(400, 'VALIDATION_FAILED', 'The body is not valid JSON'), undefined);
      }
      if ((request.routeOptions.config as RouteBodyLimit | undefined)?.jsonRpc) return done(null, parsed);
      if (hasPrototypeKeys(parsed)) {
        return done(
          new AppError(
            400,
            'VALIDATION_FAILED',
            'The body contains a forbidden key (__proto__, constructor or prototype)',
          ),
          undefined,
        );
      }
      const nul = findNul(parsed);
      if (nul) {
        return done(new AppError(400, 'VALIDATION_FAILED', `${nul.field}: ${nul.message}`, [nul]), undefined);
      }
      done(null, parsed);
    },
  );
}

/**
 * What makes a parsed JSON value unfit to read further: a prototype-polluting key (`__proto__`, `constructor`,
 * `prototype`) or a NUL in a string or key, with where it is (`field`, dotted) and why; null when it is fine.
 */
export function hostileJson(value: unknown, path = ''): { field: string; message: string } | null {
  if (typeof value !== 'object' || value === null) return findNul(value, path);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = hostileJson(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      return { field: path ? `${path}.${key}` : key, message: `the key ${key} is not allowed` };
    }
    if (hasNul(key)) return { field: path || 'body', message: NUL_KEY_MESSAGE };
    const found = hostileJson(item, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}
