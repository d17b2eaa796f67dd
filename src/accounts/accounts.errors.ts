import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The accounts' domain errors and how each is answered (plan caps are 409 `CONFLICT`, the account budget 429
 * `BUDGET_EXCEEDED`, non-owners 403). A missing account stays the shared `Errors.notFound`.
 */
export const AccountErrors = defineErrors('accounts', {
  NotOwner: {
    status: 403,
    code: 'FORBIDDEN',
    detail:
      'Only the account owner may see or change the account of this company (an account owner acts in a company as a member of it)',
  },
  UnknownPlan: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (plan: string, defined: string[]) =>
      fieldProblem('plan', `unknown plan "${plan}"; defined: ${defined.join(', ')}`),
  },
  CompanyCapReached: {
    status: 409,
    code: 'CONFLICT',
    detail: (plan: string, max: number, companies: number) =>
      `The account's plan (${plan}) allows ${max} companies, and it has ${companies}`,
  },
  TransferToOwner: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('userId', 'is the account owner already'),
  },
  TransferToStranger: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('userId', "must be a member of one of the account's companies"),
  },
  /** The account-wide monthly run budget, shared by its companies; `Retry-After` runs to next month. */
  BudgetExhausted: {
    status: 429,
    code: 'BUDGET_EXCEEDED',
    detail: (budget: number, month: string, retryAfterSeconds: number) => ({
      detail: `The account's monthly run budget (${budget}, shared by its companies) is used up for ${month}; it renews at the start of next month`,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  },
});
