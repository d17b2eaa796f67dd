import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../authz/roles.js';
import type { UnscopedReason } from './unscoped.js';

/** What a switched-in platform operator may do: look (`read`, the default) or also change (`write`). */
export const OPERATOR_MODES = ['read', 'write'] as const;
export type OperatorMode = (typeof OPERATOR_MODES)[number];

/** Who acts. `user` for people (also when a platform operator has switched in: see `operatorId`). */
export type PrincipalType = 'user' | 'api_key' | 'application' | 'platform_admin' | 'system';

/**
 * The verified credential of one request (or job), resolved once: the only source of the company id.
 * Nothing reads a company id from a path, query, header or body.
 */
export interface TenantContext {
  readonly companyId: string;
  /** The principal: a user id, an API key id, an application id, or `system` for jobs. */
  readonly principalId: string;
  readonly principalType: PrincipalType;
  /** The role the principal holds in the company (for API keys: intersected with its creator's current role). */
  readonly role: Role;
  /** The user behind the principal: the user, the API key's creator, or the switched-in operator. */
  readonly userId: string | undefined;
  /**
   * The person this principal acts on behalf of, for every person-based rule (four-eyes on verdicts, "your own
   * draft", "your own run", self-removal): the user for a user; the creator for an API key or an application;
   * the operator for a switched-in operator; the principal itself for `system` work. Never compare
   * `userId ?? principalId`: an application has no `userId`, yet it must not count as someone else.
   */
  readonly actingUserId: string;
  /** Set when a platform operator switched in: the operator's user id (the `act` claim). */
  readonly operatorId: string | undefined;
  /**
   * A switched-in operator's mode (the `operator_mode` claim): `read` unless the switch-in asked for `write`
   * (and, under the `approval` policy, an admin approved that). Read mode refuses every non-read action.
   */
  readonly operatorMode?: OperatorMode;
  /**
   * A switched-in operator's token came from the CLI's break-glass (the `break_glass` claim): it keeps working
   * when the company turns operator access `off`, which ends every other switch-in at once.
   */
  readonly breakGlass?: true;
  /**
   * The effective permissions (sorted), when they are not just the role's: a person's role ∪ groups, a scoped
   * credential's list ∩ its creator's ∩ its role's. Absent: the role's named set (see `effectivePermissions`).
   */
  readonly permissions?: readonly string[] | undefined;
  /** The keys of the groups the acting person belongs to (approver groups), when known. */
  readonly groups?: readonly string[] | undefined;
  /** The refresh family (session) an access token belongs to; `logout` revokes it. */
  readonly sessionId?: string | undefined;
}

/** The context of a person acting as themselves in `companyId` with `role` (their session, when there is one). */
export function userContext(
  companyId: string,
  userId: string,
  role: Role,
  sessionId?: string,
): TenantContext {
  return {
    companyId,
    principalId: userId,
    principalType: 'user',
    role,
    userId,
    actingUserId: userId,
    operatorId: undefined,
    sessionId,
  };
}

/**
 * The context of background work in one company: a `system` principal (named by `principalId` in the audit trail,
 * `system` by default) acting with `role` (the least role the job's reads and writes need).
 */
export function systemContext(
  companyId: string,
  principalId = 'system',
  role: Role = 'member',
): TenantContext {
  return {
    companyId,
    principalId,
    principalType: 'system',
    role,
    userId: undefined,
    actingUserId: principalId,
    operatorId: undefined,
  };
}

/** Per-request (or per-job) state kept in async-local storage. */
export interface RequestStore {
  readonly requestId: string;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  tenant: TenantContext | undefined;
  /** The user an identity-scoped query may see rows of (memberships across companies), before a tenant exists. */
  identityUserId: string | undefined;
  /** Set when the work runs outside any company on purpose (`TenancyService.unscoped`): why. */
  unscoped?: UnscopedReason;
  /** The root EntityManager the request's fork is made from. */
  readonly root: EntityManager;
  /**
   * The request's own EntityManager fork, created on first use by `requestEntityManager()` (a request served
   * without the ORM never pays for one) and scoped to `tenant` / `identityUserId` as they are set.
   */
  em?: EntityManager;
  /** The name of the domain error the request was answered with (`boards.WipLimitReached`), for its log line. */
  domainError?: string;
  /**
   * The route an MCP tool call of this request ran and the status it answered (the worst, when several ran), for
   * the request's log line: `/mcp` itself answers 200 with the route's failure inside the JSON-RPC result.
   */
  toolCall?: { route: string; status: number };
}

/** A store for a new request or job, with nothing scoped yet. */
export function newStore(
  root: EntityManager,
  fields: Pick<RequestStore, 'requestId' | 'ip' | 'userAgent'>,
): RequestStore {
  return { ...fields, root, tenant: undefined, identityUserId: undefined };
}

export const requestStorage = new AsyncLocalStorage<RequestStore>();

export function currentStore(): RequestStore | undefined {
  return requestStorage.getStore();
}

/** The tenant of the current request or job; throws when there is none, so nothing runs unscoped by accident. */
export function currentTenant(): TenantContext {
  const tenant = requestStorage.getStore()?.tenant;
  if (!tenant) {
    throw new Error('No tenant context: this code must run inside an authenticated request or a tenant job');
  }
  return tenant;
}
