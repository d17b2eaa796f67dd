import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The members' domain errors and how each is answered. A missing or foreign member stays the shared
 * `Errors.notFound`; a member above the caller's role is a row denial (404, audited).
 */
export const MemberErrors = defineErrors('members', {
  /** The caller's own membership is gone (their token is older than the change): 401, sign in again. */
  MembershipEnded: {
    status: 401,
    code: 'UNAUTHENTICATED',
    detail: 'Your membership of this company has ended',
  },
  RoleAboveOwn: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (actorRole: string) => `You cannot grant a role above your own (${actorRole})`,
  },
  TransferNotSignedIn: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'Only a signed-in owner can transfer ownership',
  },
  TransferNotOwner: { status: 403, code: 'FORBIDDEN', detail: 'Only an owner can transfer ownership' },
  TransferToSelf: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('userId', 'must be another member of the company'),
  },
  LastOwner: {
    status: 409,
    code: 'CONFLICT',
    detail:
      'The last owner cannot be removed or demoted: make another member owner (or transfer ownership) first',
  },
});
