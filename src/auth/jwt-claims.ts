import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Role } from '../authz/roles.js';

export const JWT_ISSUER = 'tenantry';
export const JWT_AUDIENCE = 'tenantry-api';

/** Claims of an access JWT (API.md). */
export interface AccessClaims {
  sub: string;
  company_id: string;
  role: Role;
  token_type: 'access';
  principal_type: 'user' | 'application' | 'platform_admin';
  /** On a platform switch-in token: the operator (RFC 8693 actor claim). */
  act?: { sub: string };
  /** On a platform switch-in token: `write` when changes were asked for (and approved); `read` otherwise. */
  operator_mode?: 'read' | 'write';
  /** On a platform switch-in token: issued by the CLI's break-glass, so it outlives `operatorAccess: off`. */
  break_glass?: true;
  /** On an application token: the application's creator, the person it acts on behalf of. */
  created_by?: string;
  /** Refresh family (session) id, for logout. */
  sid?: string;
  jti: string;
  iat?: number;
  exp?: number;
  iss?: string;
  aud?: string;
}

const keys = new WeakMap<object, KeyObject>();

/**
 * The HS256 key as a KeyObject, built once. jsonwebtoken turns a string secret into a key on every sign and
 * verify, first trying (and failing) to parse it as a public key: a measurable share of every request.
 */
export function jwtKey(auth: { jwtSecret: string }): KeyObject {
  let key = keys.get(auth);
  if (!key) {
    key = createSecretKey(Buffer.from(auth.jwtSecret, 'utf8'));
    keys.set(auth, key);
  }
  return key;
}
