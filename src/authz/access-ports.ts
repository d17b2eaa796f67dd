import type { CanActivate } from '@nestjs/common';
import type { TenantContext } from '../tenancy/request-store.js';
import type { Role } from './roles.js';

/*
 * What the global guard needs from features, declared here and provided by them (members, companies, auth), so
 * that authz imports no feature folder. The API keys module provides `API_KEY_AUTHENTICATOR` the same way
 * (`api-key-authenticator.ts`). Each feature binds its class to the token with `useExisting`: no wrapper on the
 * hot path.
 */

/** A person's groups in a company: their keys (approver groups) and the union of their permissions. */
export interface UserGroups {
  keys: readonly string[];
  permissions: readonly string[];
}

/** What is true now of a member: their role (null: not, or no longer, a member) and their groups. */
export interface MemberAccess {
  role: Role | null;
  groups: UserGroups;
}

/** What is true *now* of a token's principal, beyond what the token says (the members module's access cache). */
export interface AccessResolver {
  /** The user's role (null: not, or no longer, a member) and groups in the company now, in one read. */
  memberAccess(companyId: string, userId: string): Promise<MemberAccess>;
  /** Whether the user holds the `platform:admin` flag; `fresh` reads it from the database whatever is cached. */
  isOperator(userId: string, options?: { fresh?: boolean }): Promise<boolean>;
}
export const ACCESS_RESOLVER = Symbol('ACCESS_RESOLVER');

/** An application token's context narrowed by its application's current `permissions` (the members module). */
export interface ApplicationScopes {
  application(ctx: TenantContext): Promise<TenantContext>;
}
export const APPLICATION_SCOPES = Symbol('APPLICATION_SCOPES');

/** What a company request needs of its company on every call (the companies module's settings cache). */
export interface CompanyRuntimeSettings {
  rateLimitPerMinute: number;
  /** Per person in the company; null: no per-person limit. */
  userRateLimitPerMinute: number | null;
  deletionScheduled: boolean;
  /** The company's operator access policy: `off` ends every live switch-in but the CLI's break-glass. */
  operatorAccess: 'open' | 'approval' | 'off';
}
export interface CompanyRuntimeSettingsSource {
  /** The company's settings, or null when there is no such company. */
  get(companyId: string): Promise<CompanyRuntimeSettings | null>;
}
export const COMPANY_RUNTIME_SETTINGS = Symbol('COMPANY_RUNTIME_SETTINGS');

/**
 * Verifies the request's access JWT (the auth module's passport guard): resolves when it is valid, leaving its
 * `TenantContext` as `request.user`, and rejects otherwise.
 */
export type AccessTokenVerifier = CanActivate;
export const ACCESS_TOKEN_VERIFIER = Symbol('ACCESS_TOKEN_VERIFIER');
