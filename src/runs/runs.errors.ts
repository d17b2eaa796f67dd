import type { FieldError } from '../common/errors/app-error.js';
import { defineErrors } from '../common/errors/domain-errors.js';

/** The runs' domain errors and how each is answered. A missing or foreign run stays the shared `Errors.notFound`. */
export const RunErrors = defineErrors('runs', {
  /** A verdict on a run that is not parked at an approval step. */
  NotParked: {
    status: 409,
    code: 'CONFLICT',
    detail: (status: string) => `The run is not waiting for a verdict (it is ${status})`,
  },
  FourEyes: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'Four-eyes rule: whoever started a run cannot approve it; another member must',
  },
  VerdictGiven: {
    status: 409,
    code: 'CONFLICT',
    detail: (stepId: string) => `A verdict on step "${stepId}" of this run was already given`,
  },
  AlreadyFinal: {
    status: 409,
    code: 'CONFLICT',
    detail: (status: string) => `The run is already ${status}`,
  },
  /** Only a version saved before today's schema rules (an unsafe `pattern`, say) can have one. */
  InputSchemaUnusable: {
    status: 409,
    code: 'CONFLICT',
    detail: (reason: string) =>
      `This template version's input schema cannot be used (${reason}); publish a corrected version`,
  },
  InputMismatch: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (errors: FieldError[]) => ({
      detail: `The input does not match the template's input schema: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      errors,
    }),
  },
  /** The company's monthly run budget; `Retry-After` runs to the start of next month. */
  BudgetExhausted: {
    status: 429,
    code: 'BUDGET_EXCEEDED',
    detail: (budget: number, month: string, retryAfterSeconds: number) => ({
      detail: `The company's monthly run budget (${budget}) is used up for ${month}; it renews at the start of next month`,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  },
});
