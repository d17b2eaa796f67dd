import { features } from '../feature/registry.js';
import type { PrincipalType } from '../tenancy/request-store.js';
import type { Action, SubjectName } from './abilities.js';
import { ROLES, roleAtLeast, type Role } from './roles.js';

/**
 * One CASL rule a permission brings: `actions` on `subject`; `own` limits it to rows whose field of that name is
 * the acting person (`createdBy`, `startedBy`, `userId`).
 */
export interface PermissionRule {
  actions: readonly Action[];
  subject: SubjectName;
  own?: 'createdBy' | 'startedBy' | 'userId';
}

/**
 * A named right, `<resource>:<action>`: what a role, a group or a scoped credential holds. `role` is the least
 * built-in role that holds it (every stronger role does too). `ownerOnly` permissions are never grantable by a
 * group (the database refuses them too); `operator: false` keeps a switched-in platform operator out of it;
 * `principals` limits who may ever hold it (e.g. people only).
 */
export interface PermissionSpec {
  name: string;
  description: string;
  role: Role;
  rules: readonly PermissionRule[];
  ownerOnly?: true;
  operator?: false;
  principals?: readonly PrincipalType[];
}

export const PERMISSION_FORMAT = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

/** Declares a permission (typed identity; features list theirs in their manifest). */
export function definePermission(spec: PermissionSpec): PermissionSpec {
  return spec;
}

/** The core permissions (features add theirs through their manifest's `permissions`). */
export const CORE_PERMISSIONS: readonly PermissionSpec[] = [
  // member
  {
    name: 'company:read',
    description: 'Read the company',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Company' }],
  },
  {
    name: 'members:read',
    description: "Read the company's members",
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Member' }],
  },
  {
    name: 'members:leave',
    description: 'Leave the company (remove your own membership)',
    role: 'member',
    rules: [{ actions: ['delete'], subject: 'Member', own: 'userId' }],
    principals: ['user', 'api_key', 'application', 'platform_admin'],
  },
  {
    name: 'templates:read',
    description: 'Read the template catalogue',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Template' }],
  },
  {
    name: 'connectors:read',
    description: 'Read connectors (never their secrets)',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Connector' }],
  },
  {
    name: 'runs:read',
    description: 'Read runs and their events',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Run' }],
  },
  {
    name: 'runs:create',
    description: 'Start runs, and cancel the runs you started',
    role: 'member',
    rules: [
      { actions: ['create'], subject: 'Run' },
      { actions: ['cancel'], subject: 'Run', own: 'startedBy' },
    ],
  },
  {
    name: 'drafts:read',
    description: 'Read drafts',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Draft' }],
  },
  {
    name: 'drafts:create',
    description: 'Create drafts, and edit or delete the drafts you created',
    role: 'member',
    rules: [
      { actions: ['create'], subject: 'Draft' },
      { actions: ['update', 'delete'], subject: 'Draft', own: 'createdBy' },
    ],
  },
  {
    name: 'sessions:manage',
    description: 'Read and end your own sessions',
    role: 'member',
    rules: [{ actions: ['read', 'delete'], subject: 'Session' }],
  },
  {
    name: 'account:read',
    description: 'Read across your own companies (`?scope=account` lists); people only',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Account' }],
    principals: ['user'],
  },
  {
    name: 'permissions:read',
    description: 'Read the permission catalogue',
    role: 'member',
    rules: [{ actions: ['read'], subject: 'Permission' }],
  },
  // manager
  {
    name: 'runs:verdict',
    description: 'Give verdicts on parked runs',
    role: 'manager',
    rules: [{ actions: ['verdict'], subject: 'Run' }],
  },
  {
    name: 'runs:cancel',
    description: "Cancel anyone's runs",
    role: 'manager',
    rules: [{ actions: ['cancel'], subject: 'Run' }],
  },
  {
    name: 'drafts:publish',
    description: 'Publish and unpublish drafts',
    role: 'manager',
    rules: [{ actions: ['publish'], subject: 'Draft' }],
  },
  {
    name: 'drafts:write',
    description: "Edit and delete anyone's drafts",
    role: 'manager',
    rules: [{ actions: ['update', 'delete'], subject: 'Draft' }],
  },
  // admin
  {
    name: 'connectors:write',
    description: 'Create, edit, test and delete connectors',
    role: 'admin',
    rules: [{ actions: ['create', 'update', 'delete', 'test'], subject: 'Connector' }],
  },
  {
    name: 'invitations:read',
    description: 'Read pending invitations',
    role: 'admin',
    rules: [{ actions: ['read'], subject: 'Invitation' }],
  },
  {
    name: 'invitations:write',
    description: 'Invite people (not above your own role), resend and revoke invitations',
    role: 'admin',
    rules: [{ actions: ['create', 'update', 'delete'], subject: 'Invitation' }],
    // A switch-in leaves nobody behind it: no invitations, role changes or keys that outlast the token.
    operator: false,
  },
  {
    name: 'members:write',
    description: 'Change roles of and remove members (not above your own role)',
    role: 'admin',
    rules: [{ actions: ['update', 'delete'], subject: 'Member' }],
    // A switch-in leaves nobody behind it: no invitations, role changes or keys that outlast the token.
    operator: false,
  },
  {
    name: 'api-keys:read',
    description: 'Read API keys (masked)',
    role: 'admin',
    rules: [{ actions: ['read'], subject: 'ApiKey' }],
  },
  {
    name: 'api-keys:write',
    description: 'Create and rotate API keys (the secret is shown once)',
    role: 'admin',
    rules: [{ actions: ['create', 'rotate'], subject: 'ApiKey' }],
    operator: false,
  },
  {
    name: 'api-keys:revoke',
    description: 'Revoke API keys',
    role: 'admin',
    rules: [{ actions: ['delete'], subject: 'ApiKey' }],
  },
  {
    name: 'company:write',
    description: "Change the company's settings",
    role: 'admin',
    rules: [{ actions: ['update'], subject: 'Company' }],
  },
  {
    name: 'audit:read',
    description: 'Read, verify and export the audit trail',
    role: 'admin',
    rules: [{ actions: ['read'], subject: 'AuditEvent' }],
  },
  {
    name: 'applications:read',
    description: "Read the company's applications",
    role: 'admin',
    rules: [{ actions: ['read'], subject: 'Application' }],
  },
  // owner
  {
    name: 'applications:write',
    description: 'Create, edit, rotate and delete applications',
    role: 'owner',
    rules: [{ actions: ['create', 'update', 'delete', 'rotate'], subject: 'Application' }],
    ownerOnly: true,
    operator: false,
  },
  {
    name: 'ownership:transfer',
    description: 'Transfer ownership of the company',
    role: 'owner',
    rules: [{ actions: ['transfer'], subject: 'Ownership' }],
    ownerOnly: true,
    operator: false,
  },
  {
    name: 'company:delete',
    description: 'Schedule the deletion of the company, or restore it',
    role: 'owner',
    rules: [{ actions: ['delete', 'restore'], subject: 'Company' }],
    ownerOnly: true,
    operator: false,
  },
];

/** Permissions that are never grantable by a group (also refused by a check constraint on `group_permission`). */
export const OWNER_ONLY_PERMISSIONS = CORE_PERMISSIONS.filter((p) => p.ownerOnly).map((p) => p.name);

interface Catalogue {
  all: readonly PermissionSpec[];
  byName: ReadonlyMap<string, PermissionSpec>;
  byRole: ReadonlyMap<Role, readonly string[]>;
  /** `action subject` → the permission whose unconditional rule allows it (what a route declares). */
  byRule: ReadonlyMap<string, string>;
}

let built: { count: number; catalogue: Catalogue } | undefined;

/** The catalogue: core permissions and every registered feature's, in declaration order. */
export function catalogue(): Catalogue {
  const list = features();
  if (built && built.count === list.length) return built.catalogue;
  const all: PermissionSpec[] = [...CORE_PERMISSIONS];
  for (const feature of list) {
    for (const p of feature.permissions ?? []) all.push(p);
  }
  const byName = new Map<string, PermissionSpec>();
  const byRule = new Map<string, string>();
  for (const p of all) {
    if (!PERMISSION_FORMAT.test(p.name)) throw new Error(`Permission ${p.name} is not <resource>:<action>`);
    if (byName.has(p.name)) throw new Error(`Permission ${p.name} is declared twice`);
    byName.set(p.name, p);
    for (const rule of p.rules) {
      if (rule.own) continue;
      for (const action of rule.actions) {
        const key = `${action} ${rule.subject}`;
        const other = byRule.get(key);
        if (other) throw new Error(`${key} is granted by both ${other} and ${p.name}`);
        byRule.set(key, p.name);
      }
    }
  }
  const byRole = new Map<Role, readonly string[]>();
  for (const role of ROLES) {
    byRole.set(
      role,
      all.filter((p) => roleAtLeast(role, p.role)).map((p) => p.name),
    );
  }
  const catalogue: Catalogue = { all, byName, byRole, byRule };
  built = { count: list.length, catalogue };
  return catalogue;
}

/** The permission a route `@Authorize(action, subject)` declares (undefined when none grants it: a bug). */
export function permissionForRule(action: string, subject: string): string | undefined {
  return catalogue().byRule.get(`${action} ${subject}`);
}

/** The permissions a built-in role holds (a named set). */
export function rolePermissions(role: Role): readonly string[] {
  return catalogue().byRole.get(role) ?? [];
}

export function isPermission(name: string): boolean {
  return catalogue().byName.has(name);
}

export function isOwnerOnly(name: string): boolean {
  return catalogue().byName.get(name)?.ownerOnly === true;
}

/** What `principalType` may ever hold of `names` (operators lose `operator: false`; `principals` filters). */
export function forPrincipal(names: Iterable<string>, principalType: PrincipalType): string[] {
  const { byName } = catalogue();
  const out: string[] = [];
  for (const name of names) {
    const spec = byName.get(name);
    if (!spec) continue;
    if (spec.principals && !spec.principals.includes(principalType)) continue;
    if (spec.operator === false && principalType === 'platform_admin') continue;
    out.push(name);
  }
  return out;
}

/** Sorted, de-duplicated union of permission lists (the order a context carries them in). */
export function unionPermissions(...lists: (readonly string[] | undefined)[]): string[] {
  const set = new Set<string>();
  for (const list of lists) for (const p of list ?? []) set.add(p);
  return [...set].sort();
}

/** `a ∩ b`, sorted. */
export function intersectPermissions(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(b);
  return a.filter((p) => set.has(p)).sort();
}
