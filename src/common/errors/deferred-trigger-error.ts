import { DriverException } from '@mikro-orm/core';
import { AppError } from './app-error.js';
import { codeForStatus } from './problem.js';

const TRIGGER_STATE = /^TY(4\d\d)$/;

/**
 * A deferred constraint trigger raises at COMMIT, which the ORM executes outside its query path: the error
 * reaches the caller as the driver's raw error, not as a converted `DriverException`, so the problem filter
 * would render it as a 500. This maps such an error with a Tenantry SQLSTATE (`TY4xx`) to the `AppError`
 * a statement-time trigger error becomes (status from the state, the trigger's message as the detail), and
 * returns anything else unchanged.
 */
export function fromDeferredTriggerError(error: unknown): unknown {
  // Converted driver errors (statement time) are mapped by the problem filter already.
  if (error instanceof AppError || error instanceof DriverException) return error;
  if (typeof error !== 'object' || error === null) return error;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const state = typeof code === 'string' ? TRIGGER_STATE.exec(code) : null;
  if (!state || typeof message !== 'string') return error;
  const status = Number(state[1]);
  return new AppError(status, codeForStatus(status), message.split('\n')[0] ?? 'Refused');
}
