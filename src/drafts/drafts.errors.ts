import { AppError, Errors } from '../common/errors/app-error.js';
import type { FieldError } from '../templates/definition.js';

/** 400 with every error of the definition validator, paths as the body has them (`''` → `body`). */
export function invalidDefinition(errors: FieldError[]): AppError {
  const list = errors.map((e) => ({ field: e.field === '' ? 'body' : e.field, message: e.message }));
  const first = list[0] ?? { field: 'body', message: 'is invalid' };
  const more = list.length > 1 ? ` (and ${list.length - 1} more)` : '';
  return Errors.validation(`Invalid template definition: ${first.field} ${first.message}${more}`, list);
}

/** 409 about the key, with the field named like a validation error. */
export function keyConflict(message: string): AppError {
  return new AppError(409, 'CONFLICT', `key ${message}`, [{ field: 'key', message }]);
}
