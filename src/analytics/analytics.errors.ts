import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/** The analytics' query errors and how each is answered. */
export const AnalyticsErrors = defineErrors('analytics', {
  InvalidDateTime: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (field: 'from' | 'to') => fieldProblem(field, 'must be an ISO 8601 date-time'),
  },
  /** `from` must come strictly before `to`. */
  RangeReversed: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('from', 'must be before to'),
  },
  RangeTooLong: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (maxDays: number) => fieldProblem('to', `must be at most ${maxDays} days after from`),
  },
  UnknownTimeZone: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('timezone', 'must be an IANA time zone name (Europe/Berlin)'),
  },
});
