import { AbilityBuilder, createMongoAbility, type ForcedSubject, type MongoAbility } from '@casl/ability';
import { features } from '../feature/registry.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { roleAtLeast } from './roles.js';

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
 * The one ability factory: (principal, role) → rules. Deny by default; roles only ever add rights inside the
 * company of the context (a role never widens the tenant boundary). A switched-in platform operator holds
 * `admin` rights minus anything that reveals a secret, ownership and company deletion.
 */
export function defineAbility(ctx: TenantContext): AppAbility {
  const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  const role = ctx.role;
  // A person through any of their credentials: a session, their API keys, their applications.
  const self = ctx.actingUserId;

  // member
  can('read', ['Company', 'Member', 'Template', 'Connector', 'Run', 'Draft', 'Session']);
  can('delete', 'Session');
  can('create', ['Draft', 'Run']);
  can(['update', 'delete'], 'Draft', { createdBy: self });
  can('cancel', 'Run', { startedBy: self });
  // Leaving a company: a person may remove their own membership (the last owner rule still holds).
  if (ctx.principalType !== 'system') can('delete', 'Member', { userId: self });
  if (ctx.principalType === 'user') {
    // A person reads across their own companies whatever their role in the active one; what each company
    // contributes is decided per company, by the role there (e.g. `ApplicationsService.listForAccount`).
    can('read', 'Account');
  }

  if (roleAtLeast(role, 'manager')) {
    can(['verdict', 'cancel'], 'Run');
    can(['publish', 'update', 'delete'], 'Draft');
  }
  if (roleAtLeast(role, 'admin')) {
    can(['create', 'read', 'update', 'delete', 'test'], 'Connector');
    can(['create', 'read', 'update', 'delete'], 'Invitation');
    can(['update', 'delete'], 'Member');
    can(['create', 'read', 'delete', 'rotate'], 'ApiKey');
    can('update', 'Company');
    can('read', ['AuditEvent', 'Application']);
  }
  if (roleAtLeast(role, 'owner')) {
    can(['create', 'update', 'delete', 'rotate'], 'Application');
    can('transfer', 'Ownership');
    can(['delete', 'restore'], 'Company');
  }
  for (const feature of features()) {
    for (const grant of feature.grants ?? []) {
      if (!roleAtLeast(role, grant.role)) continue;
      if (grant.operator === false && ctx.principalType === 'platform_admin') continue;
      if (grant.own) can([...grant.actions], grant.subject, { [grant.own]: self });
      else can([...grant.actions], grant.subject);
    }
  }
  if (ctx.principalType === 'platform_admin') {
    cannot(['create', 'rotate'], 'ApiKey');
    cannot(['create', 'rotate'], 'Application');
    cannot('transfer', 'Ownership');
    cannot(['delete', 'restore'], 'Company');
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

/** Every action the core and the features declare, except those that only look (what a read-only switch-in loses). */
function nonReadActions(): Action[] {
  const all = new Set<Action>(ACTIONS);
  for (const feature of features())
    for (const grant of feature.grants ?? []) for (const a of grant.actions) all.add(a);
  return [...all].filter((a) => !LOOK_ACTIONS.has(a));
}

const cache = new Map<string, AppAbility>();
const CACHE_LIMIT = 10_000;

/** Abilities are pure functions of the context's principal, role and user: built once per combination. */
export function abilityFor(ctx: TenantContext): AppAbility {
  const key = `${ctx.principalType}|${ctx.role}|${ctx.actingUserId}|${ctx.operatorMode ?? ''}`;
  let ability = cache.get(key);
  if (!ability) {
    ability = defineAbility(ctx);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, ability);
  }
  return ability;
}
