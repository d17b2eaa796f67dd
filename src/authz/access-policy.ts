import { Errors, type AppError } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { abilityFor } from './abilities.js';
import type { AccessResolver, CompanyRuntimeSettings } from './access-ports.js';
import type { AbilityRule } from './authorize.decorator.js';
import { permissionForRule } from './permissions.js';
import { AuthzErrors } from './authz.errors.js';

/*
 * Tenancy scope and ability: what a verified tenant context may reach on a route. Pure functions of the context,
 * the route's rule and the company's settings (the platform check reads the operator flag through the port).
 */

/**
 * What a company scheduled for deletion still answers: the company itself (to restore it), sessions, and reads of
 * its audit trail (so its admins can keep a copy before the purge).
 */
const NOT_BLOCKED_BY_DELETION = new Set(['Company', 'Session', 'AuditEvent']);

/** A path parameter other than `{companyId}` makes a route a single-resource route (denials answer 404). */
export function isItemRoute(url: string): boolean {
  return /:(?!companyId\b)[A-Za-z]+/.test(url);
}

/** A `{companyId}` in the path must be the context's company: 404 otherwise, as for a company that is not there. */
export function assertCompanyInPath(companyId: string | undefined, tenant: TenantContext): void {
  if (companyId !== undefined && companyId !== tenant.companyId) throw Errors.notFound('Company');
}

/** A company scheduled for deletion answers only what its owner needs to restore it or keep a copy (403). */
export function assertNotBeingDeleted(company: CompanyRuntimeSettings, rule: AbilityRule): void {
  if (company.deletionScheduled && !NOT_BLOCKED_BY_DELETION.has(rule.subject)) {
    throw AuthzErrors.CompanyScheduledForDeletion();
  }
}

/**
 * A company that turned operator access `off` ends every live switch-in but the CLI's break-glass (401): at once
 * on the instance that changed it, within the settings cache's 30 s on the others.
 */
export function assertOperatorAdmitted(company: CompanyRuntimeSettings, tenant: TenantContext): void {
  if (tenant.principalType === 'platform_admin' && company.operatorAccess === 'off' && !tenant.breakGlass) {
    throw Errors.unauthenticated('This company no longer admits platform operators (operatorAccess: off)');
  }
}

/** Why a rule refuses a context: the route is not for its kind of principal, or its permissions lack it. */
export type Refusal = 'principal' | 'permission';

/**
 * Whether the ability of (principal, effective permissions: role ∪ groups, or a credential's scope) allows the
 * rule's action (the route's one permission, see `permissions.ts`): undefined when it does, else why not.
 */
export function refusal(rule: AbilityRule, tenant: TenantContext): Refusal | undefined {
  if (rule.principals && !rule.principals.includes(tenant.principalType)) return 'principal';
  return abilityFor(tenant).can(rule.action, rule.subject) ? undefined : 'permission';
}

/** The permission a rule stands for (`action:Subject` when the catalogue names none). */
export function rulePermission(rule: AbilityRule): string {
  return permissionForRule(rule.action, rule.subject) ?? `${rule.action}:${rule.subject}`;
}

/** The 403 of a refusal on a collection (on a single resource a refusal answers 404 instead). */
export function refusalError(why: Refusal, rule: AbilityRule, tenant: TenantContext): AppError {
  return why === 'permission'
    ? AuthzErrors.PermissionNotGranted(rulePermission(rule), tenant.role)
    : AuthzErrors.PrincipalNotAdmitted(tenant.principalType.replace('_', ' '));
}

/** Platform routes: the signed-in user must hold the `platform:admin` flag, read from the database (403). */
export async function requirePlatformOperator(access: AccessResolver, tenant: TenantContext): Promise<true> {
  if (tenant.principalType !== 'user' || !tenant.userId) throw AuthzErrors.PlatformOperatorsOnly();
  if (!(await access.isOperator(tenant.userId, { fresh: true }))) {
    throw AuthzErrors.PlatformOperatorsOnly();
  }
  return true;
}
