import { defineErrors } from '../common/errors/domain-errors.js';

/**
 * The sign-in and session errors and how each is answered. A refused access token (the guard) and a signed-in
 * user who no longer exists stay the generic 401 of `Errors.unauthenticated`.
 */
export const AuthErrors = defineErrors('auth', {
  EmailTaken: { status: 409, code: 'CONFLICT', detail: 'An account with this email already exists' },
  /** One answer for an unknown email, a wrong password and a company the user is not in. */
  BadLogin: { status: 401, code: 'UNAUTHENTICATED', detail: 'Invalid email, password or company' },
  /** One answer for every refresh token that cannot be rotated (malformed, unknown, spent, revoked, expired). */
  BadRefresh: {
    status: 401,
    code: 'UNAUTHENTICATED',
    detail: 'The refresh token is invalid, expired or revoked',
  },
  /** A logout with neither a refresh token nor a session-bound access token. */
  NoSessionToRevoke: { status: 400, code: 'VALIDATION_FAILED', detail: 'Send the refresh token to revoke' },
});
