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
  /** Refresh family (session) id, for logout. */
  sid?: string;
  jti: string;
  iat?: number;
  exp?: number;
  iss?: string;
  aud?: string;
}
