import { AbilityBuilder, createMongoAbility, type ForcedSubject, type MongoAbility } from '@casl/ability';
import type { TenantContext } from '../tenancy/request-store.js';
import type { UserGroups } from './access-ports.js';
import { catalogue, forPrincipal, isPermission, rolePermissions, unionPermissions } from './permissions.js';
import type { Role } from './roles.js';
import { AuthzErrors } from './authz.errors.js';

export const ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'manage',
  'publish',
  'verdict',
  'cancel',
  'rotate',
  'transfer',
  'test',
  'restore',
] as const;

/**
 * Actions and subjects a feature adds, by declaration merging next to its manifest:
 * `declare module '../authz/abilities.js' { interface FeatureSubjects { Board: true } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FeatureActions {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FeatureSubjects {}

export type Action = (typeof ACTIONS)[number] | Extract<keyof FeatureActions, string>;

export const SUBJECTS = [
  'Company',
  'Member',
  'Invitation',
  'Connector',
  'Template',
  'Draft',
  'Run',
  'AuditEvent',
  'ApiKey',
  'Application',
  'Ownership',
  'Session',
  /** The signed-in person's own account across their companies (`?scope=account` lists). */
  'Account',
  /** The permission catalogue. */
  'Permission',
] as const;
export type SubjectName = (typeof SUBJECTS)[number] | Extract<keyof FeatureSubjects, string>;

/** A loaded row checked against conditions (`createdBy`, `startedBy`). */
export interface SubjectRow {
  createdBy?: string | null;
  startedBy?: string | null;
  /** A membership's user (`Member`): anyone may remove themselves. */
  userId?: string | null;
}

/** A row tagged with its subject name (`subject('Run', row)`), for checks with conditions. */
export type TaggedRow = { [N in SubjectName]: SubjectRow & ForcedSubject<N> }[SubjectName];

export type AppAbility = MongoAbility<[Action, SubjectName | TaggedRow | 'all']>;

/**
 * The principal's effective permissions: what the context carries (role ∪ groups for a person, the scoped list of
 * a credential, set by the guard) or, when it carries none, its role's named set. Always filtered by what this
 * kind of principal may ever hold (a switched-in operator never holds `operator: false` permissions).
 */
export function effectivePermissions(ctx: TenantContext): readonly string[] {
  return forPrincipal(ctx.permissions ?? rolePermissions(ctx.role), ctx.principalType);
}

/**
 * The one ability factory: (principal, effective permissions) → rules. Deny by default; each permission adds its
 * rules (see `permissions.ts`), inside the company of the context only (nothing widens the tenant boundary).
 * Roles are named sets of permissions, so role logic and permission logic are one thing.
 */
export function defineAbility(ctx: TenantContext): AppAbility {
  const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  // A person through any of their credentials: a session, their API keys, their applications.
  const self = ctx.actingUserId;
  const { byName } = catalogue();
  for (const name of effectivePermissions(ctx)) {
    for (const rule of byName.get(name)?.rules ?? []) {
      if (rule.own) can([...rule.actions], rule.subject, { [rule.own]: self });
      else can([...rule.actions], rule.subject);
    }
  }
  // ── Operator access (issue 17, item 5): a switch-in is read-only unless it was granted `write`. ──────────
  if (ctx.principalType === 'platform_admin' && ctx.operatorMode !== 'write') {
    cannot(nonReadActions(), 'all');
  }
  // ── end operator access ─────────────────────────────────────────────────────────────────────────────────
  return build();
}

/**
 * Actions a read-only switch-in keeps: `read`, and `use` of a transport whose every call is checked on its own
 * route. `manage` is CASL's wildcard (every action, reads included), so it is never named in the `cannot`:
 * each concrete action is.
 */
const LOOK_ACTIONS: ReadonlySet<string> = new Set(['read', 'use', 'manage']);

/** Every action of the catalogue's rules, except those that only look (what a read-only switch-in loses). */
function nonReadActions(): Action[] {
  const all = new Set<Action>(ACTIONS);
  for (const permission of catalogue().byName.values())
    for (const rule of permission.rules) for (const a of rule.actions) all.add(a);
  return [...all].filter((a) => !LOOK_ACTIONS.has(a));
}

/** Unions computed once per cached groups entry and role (the hot path allocates no new list per request). */
const unions = new WeakMap<UserGroups, Map<Role, readonly string[]>>();

/** A person's context with their groups: permissions = role's ∪ groups' (unchanged when they have none). */
export function withGroups(ctx: TenantContext, groups: UserGroups): TenantContext {
  if (groups.keys.length === 0) return ctx;
  if (groups.permissions.length === 0) return { ...ctx, groups: groups.keys };
  let byRole = unions.get(groups);
  if (!byRole) {
    byRole = new Map<Role, readonly string[]>();
    unions.set(groups, byRole);
  }
  let permissions = byRole.get(ctx.role);
  if (!permissions) {
    permissions = unionPermissions(rolePermissions(ctx.role), groups.permissions);
    byRole.set(ctx.role, permissions);
  }
  return { ...ctx, groups: groups.keys, permissions };
}

/** Whether the context holds `permission` (role, groups, or a credential's scoped list). */
export function holds(ctx: TenantContext, permission: string): boolean {
  return effectivePermissions(ctx).includes(permission);
}

/**
 * The `permissions` of a new scoped credential (API key, application), sorted and de-duplicated: each must be in
 * the catalogue (400), held by its creator now (403) and within the credential's role (400). Absent: null (the
 * credential's role alone applies).
 */
export function credentialScope(
  ctx: TenantContext,
  requested: readonly string[] | undefined,
  credentialRole: Role,
): string[] | null {
  if (requested === undefined) return null;
  const list = unionPermissions(requested);
  const unknown = list.filter((p) => !isPermission(p));
  if (unknown.length > 0) throw AuthzErrors.UnknownPermissions(unknown);
  const held = new Set(effectivePermissions(ctx));
  const missing = list.filter((p) => !held.has(p));
  if (missing.length > 0) {
    throw AuthzErrors.PermissionsNotHeld(missing);
  }
  // In use the scope is ∩ the credential's role: a permission outside it would only ever answer 403.
  const ofRole = new Set(rolePermissions(credentialRole));
  const beyondRole = list.filter((p) => !ofRole.has(p));
  if (beyondRole.length > 0) {
    throw AuthzErrors.PermissionsBeyondRole(credentialRole, beyondRole);
  }
  return list;
}

/**
 * `holds`, for a service that re-read the principal's role (`current`) after the guard: a demotion since the
 * token was issued counts now. A permission the context holds through a group (not through its role) stays.
 */
export function holdsNow(ctx: TenantContext, current: Role, permission: string): boolean {
  if (!holds(ctx, permission)) return false;
  if (current === ctx.role) return true;
  return rolePermissions(current).includes(permission) || !rolePermissions(ctx.role).includes(permission);
}

const cache = new Map<string, AppAbility>();
const keys = new WeakMap<readonly string[], number>();
const interned = new Map<string, number>();
/** Never reused (a cleared `interned` must not hand an old number to a different list). */
let lastKey = 0;

/**
 * A permission list's short cache key: equal lists share one number, computed once per list object (the access
 * cache hands out the same list for its TTL), so the hot path neither joins nor hashes the whole list.
 */
function permissionsKey(permissions: readonly string[]): number {
  let key = keys.get(permissions);
  if (key === undefined) {
    const joined = permissions.join(',');
    key = interned.get(joined);
    if (key === undefined) {
      if (interned.size >= CACHE_LIMIT) interned.clear();
      key = ++lastKey;
      interned.set(joined, key);
    }
    keys.set(permissions, key);
  }
  return key;
}

const CACHE_LIMIT = 10_000;

/** Abilities are pure functions of the context's principal, role, user and permissions: built once per combination. */
export function abilityFor(ctx: TenantContext): AppAbility {
  const key = `${ctx.principalType}|${ctx.role}|${ctx.actingUserId}|${ctx.operatorMode ?? ''}|${ctx.permissions ? permissionsKey(ctx.permissions) : ''}`;
  let ability = cache.get(key);
  if (!ability) {
    ability = defineAbility(ctx);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, ability);
  }
  return ability;
}
