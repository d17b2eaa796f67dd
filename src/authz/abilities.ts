import { AbilityBuilder, createMongoAbility, type ForcedSubject, type MongoAbility } from '@casl/ability';
import { features } from '../features.js';
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

// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- open to features (never while none adds one)
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
  const self = ctx.userId ?? ctx.principalId;

  // member
  can('read', ['Company', 'Member', 'Template', 'Connector', 'Run', 'Draft', 'Session']);
  can('delete', 'Session');
  can('create', ['Draft', 'Run']);
  can(['update', 'delete'], 'Draft', { createdBy: self });
  can('cancel', 'Run', { startedBy: self });
  if (ctx.principalType === 'user') {
    // Leaving a company: a signed-in user may remove their own membership (the last owner rule still holds).
    can('delete', 'Member', { userId: self });
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
  return build();
}

const cache = new Map<string, AppAbility>();
const CACHE_LIMIT = 10_000;

/** Abilities are pure functions of the context's principal, role and user: built once per combination. */
export function abilityFor(ctx: TenantContext): AppAbility {
  const key = `${ctx.principalType}|${ctx.role}|${ctx.userId ?? ctx.principalId}`;
  let ability = cache.get(key);
  if (!ability) {
    ability = defineAbility(ctx);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, ability);
  }
  return ability;
}
