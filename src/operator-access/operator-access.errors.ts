import { defineErrors } from '../common/errors/domain-errors.js';

/**
 * The operator-access errors and how each is answered. A missing company, request or user stays the shared
 * `Errors.notFound` (another operator's request too); a caller who is no platform operator gets
 * `AuthzErrors.PlatformOperatorsOnly`, as on every platform route.
 */
export const OperatorAccessErrors = defineErrors('operator-access', {
  /** The company's `operatorAccess` is `off`: no switch-in, no token of an earlier approval. */
  AccessOff: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'This company does not admit platform operators (operatorAccess: off)',
  },
  StillPending: { status: 409, code: 'CONFLICT', detail: 'The request is still pending an admin decision' },
  AlreadyRedeemed: { status: 409, code: 'CONFLICT', detail: 'The token of this request was already issued' },
  /** Denied or expired: no token. */
  NotApproved: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (status: string) => `The request is ${status}: no token`,
  },
  AlreadyDecided: {
    status: 409,
    code: 'CONFLICT',
    detail: (status: string) => `The request is ${status}; only a pending one is decided`,
  },
  /** Four eyes: an operator who is also an admin of the company does not approve their own access. */
  OwnRequest: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'An operator cannot approve their own access request',
  },
  /** Break-glass names a user without the platform flag. */
  NotAnOperator: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (email: string) => `${email} is not a platform operator`,
  },
});
