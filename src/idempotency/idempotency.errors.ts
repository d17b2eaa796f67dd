import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/** The `Idempotency-Key` errors and how each is answered. */
export const IdempotencyErrors = defineErrors('idempotency', {
  InvalidKey: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('Idempotency-Key', 'must be 1–255 visible ASCII characters, sent once'),
  },
  /** The key was recorded for a request with another body (or other path parameters). */
  OtherRequest: {
    status: 409,
    code: 'CONFLICT',
    detail: 'This Idempotency-Key was already used for a different request',
  },
  /** A retry of a creation whose secret is not shown again; the body names what the key created. */
  AlreadyUsed: {
    status: 409,
    code: 'CONFLICT',
    detail: (previous: { resourceType: string; resourceId: string }) => ({
      detail:
        `This Idempotency-Key was already used (for ${previous.resourceType} ${previous.resourceId}); ` +
        'the secret it produced was shown once and is not shown again: if it was lost, revoke or ' +
        'rotate it',
      extensions: { resourceType: previous.resourceType, resourceId: previous.resourceId },
    }),
  },
});
