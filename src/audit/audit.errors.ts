import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/** The audit trail's query errors and how each is answered. */
export const AuditErrors = defineErrors('audit', {
  InvalidTimestamp: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (field: 'from' | 'to') => fieldProblem(field, 'must be an ISO 8601 timestamp'),
  },
  /** `?from=` after `?to=` (an empty range is allowed: `from` equal to `to`). */
  RangeReversed: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('from', 'must not be after to'),
  },
});
