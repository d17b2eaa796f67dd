import { defineErrors } from '../common/errors/domain-errors.js';
import type { InvitationStatus } from './invitation.entity.js';

/** The prefix of an invitation token (`inv_…`); anything else is not looked up. */
export const INVITATION_PREFIX = 'inv_';

/**
 * The invitations' domain errors and how each is answered. An unknown token, another person's invitation and an
 * unusable one answer 404 (nothing about the invitation is revealed; `Unknown` is byte-identical to any missing
 * invitation).
 */
export const InvitationErrors = defineErrors('invitations', {
  Unknown: { status: 404, code: 'NOT_FOUND', detail: 'Invitation not found' },
  Used: { status: 404, code: 'NOT_FOUND', detail: 'This invitation has already been used' },
  Revoked: { status: 404, code: 'NOT_FOUND', detail: 'This invitation was revoked' },
  Expired: { status: 404, code: 'NOT_FOUND', detail: 'This invitation has expired: ask for a new one' },
  NoLongerValid: { status: 404, code: 'NOT_FOUND', detail: 'This invitation is no longer valid' },
  PendingExists: {
    status: 409,
    code: 'CONFLICT',
    detail: 'A pending invitation for this email exists: resend or revoke it',
  },
  OtherPendingExists: {
    status: 409,
    code: 'CONFLICT',
    detail: 'Another pending invitation for this email exists: resend that one, or revoke it first',
  },
  AlreadyAccepted: { status: 409, code: 'CONFLICT', detail: 'The invitation was accepted already' },
  AlreadyRevoked: { status: 409, code: 'CONFLICT', detail: 'The invitation was revoked: create a new one' },
  EmailIsMember: {
    status: 409,
    code: 'CONFLICT',
    detail: 'This email belongs to a member of the company already',
  },
  CallerIsMember: { status: 409, code: 'CONFLICT', detail: 'You are a member of this company already' },
  CompanyBeingDeleted: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The company is scheduled for deletion; its invitations cannot be accepted',
  },
  SignInFirst: {
    status: 401,
    code: 'UNAUTHENTICATED',
    detail:
      'An account with this email exists: sign in (or send its password), then accept the invitation again',
  },
});

/** Why an invitation that is not pending cannot be accepted. */
export function unusable(status: Exclude<InvitationStatus, 'pending'>) {
  switch (status) {
    case 'accepted':
      return InvitationErrors.Used();
    case 'revoked':
      return InvitationErrors.Revoked();
    case 'expired':
      return InvitationErrors.Expired();
  }
}
