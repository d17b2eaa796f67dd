import type { FieldError } from '../common/errors/app-error.js';
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
  /** Only a person (or nobody) accepts an invitation: not an API key or an application. */
  NotAPerson: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'Accept invitations signed in as a user, or with no credential',
  },
  /** A new account needs its name and password; `missing` lists the fields not sent. */
  AccountDetailsMissing: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (missing: FieldError[]) => ({
      detail: missing.map((m) => m.message).join('; '),
      errors: missing,
    }),
  },
  NoInvitePermission: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'This needs the permission invitations:write, which you do not hold',
  },
  RoleAboveOwn: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (actorRole: string) => `You cannot invite with a role above your own (${actorRole})`,
  },
  /** The company's hourly invitation mail limit; `Retry-After` says when the oldest mail of the hour ages out. */
  MailLimitReached: {
    status: 429,
    code: 'RATE_LIMITED',
    detail: (perHour: number, retryAfterSeconds: number) => ({
      detail: `At most ${perHour} invitation mails (new or re-sent) may be sent per company per hour; try again later`,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  },
  /** The account's plan caps the members of a company (pending invitations do not count). */
  MemberCapReached: {
    status: 409,
    code: 'CONFLICT',
    detail: (plan: string, max: number, members: number) =>
      `The account's plan (${plan}) allows ${max} members per company, and this company has ${members}`,
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
