import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The groups' domain errors and how each is answered. A missing group, member or group member stays the shared
 * `Errors.notFound`; names outside the permission catalogue are `AuthzErrors.UnknownPermissions`.
 */
export const GroupErrors = defineErrors('groups', {
  /** The key of a create, or of an update that changes it (an update that leaves the key cannot take one). */
  KeyTaken: {
    status: 409,
    code: 'CONFLICT',
    detail: (key: string | undefined) => `key "${key}" is already the key of another group`,
  },
  /** Owner-only permissions stay with owners: a group never grants them. */
  OwnerOnlyPermissions: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (ownerOnly: string[]) =>
      fieldProblem(
        'permissions',
        `owner-only permissions are never granted by a group: ${ownerOnly.join(', ')}`,
      ),
  },
  /** The actor grants only permissions they hold (those already in the group excepted). */
  PermissionsNotHeld: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (missing: string[]) => `You cannot grant permissions you do not hold: ${missing.join(', ')}`,
  },
  /** Adding a member hands out the group's permissions: the actor must hold them all. */
  MemberPermissionsNotHeld: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (missing: string[]) =>
      `You cannot add members to a group holding permissions you do not hold: ${missing.join(', ')}`,
  },
});
