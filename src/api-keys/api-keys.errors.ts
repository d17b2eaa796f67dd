import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The API keys' domain errors and how each is answered. A missing or foreign key (or one the caller may not
 * manage) stays the shared `Errors.notFound`; a refused key at authentication stays the generic 401.
 */
export const ApiKeyErrors = defineErrors('api-keys', {
  CreatorNotAPerson: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'API keys are created by people, not by other credentials',
  },
  RoleAboveOwn: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (ownRole: string) => `An API key's role cannot be above your own role (${ownRole})`,
  },
  NotActive: { status: 409, code: 'CONFLICT', detail: 'Only an active key can be rotated' },
  AlreadyRotated: {
    status: 409,
    code: 'CONFLICT',
    detail: (replacedById: string) => `This key was already rotated into ${replacedById}; rotate that key`,
  },
  RevokeReasonMissing: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('reason', 'is required: why is the key revoked?'),
  },
});
