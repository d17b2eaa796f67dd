import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The authorization refusals and how each is answered. Authentication (a credential refused or no longer valid)
 * stays the generic 401 of `Errors.unauthenticated`, and a refusal on a single resource the shared
 * `Errors.notFound`.
 */
export const AuthzErrors = defineErrors('authz', {
  /** The route's one permission is not in the caller's effective permissions (on a collection route). */
  PermissionNotGranted: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (permission: string, role: string) =>
      `This needs the permission ${permission}, which your role (${role}) does not grant`,
  },
  /** The route is not for this kind of principal (`api key`, `application`, …). */
  PrincipalNotAdmitted: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (principalType: string) => `This route is not available to ${principalType} credentials`,
  },
  PlatformOperatorsOnly: { status: 403, code: 'FORBIDDEN', detail: 'Platform operators only' },
  /** A write (or a sign-in) into a company in its deletion grace window: only restoring it is left. */
  CompanyScheduledForDeletion: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'The company is scheduled for deletion; its owner can restore it',
  },
  /** A route without `@Authorize` or `@Public`: deny by default. */
  NoRule: { status: 403, code: 'FORBIDDEN', detail: 'This route declares no authorization' },
  UnknownPermissions: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (unknown: string[]) => fieldProblem('permissions', `unknown permissions: ${unknown.join(', ')}`),
  },
  /** A scoped credential (API key, application) may hold only permissions its creator holds now. */
  PermissionsNotHeld: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (missing: string[]) =>
      `A credential cannot be given permissions you do not hold: ${missing.join(', ')}`,
  },
  /** Permissions a credential's role would never let it use. */
  PermissionsBeyondRole: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (role: string, beyondRole: string[]) =>
      fieldProblem(
        'permissions',
        `a credential with the role ${role} can never use: ${beyondRole.join(', ')} (give it a higher role)`,
      ),
  },
});
