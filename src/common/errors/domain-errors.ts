import { AppError, type ErrorCode } from './app-error.js';

/** How one domain error of a feature is answered: the HTTP status and the API code of API.md. */
export interface DomainErrorMapping {
  readonly status: number;
  readonly code: ErrorCode;
  /** The caller-safe detail (the default; a factory may pass its own). */
  readonly detail: string;
}

/**
 * A domain error: a feature's own name for what went wrong (`invitations.PendingExists`), carrying the status and
 * API code its feature mapped it to. The one filter (`toProblem`) renders it like any `AppError`; the name is
 * for logs and tests, and never changes the problem body.
 */
export class DomainError extends AppError {
  constructor(
    readonly domainCode: string,
    mapping: DomainErrorMapping,
    detail?: string,
  ) {
    super(mapping.status, mapping.code, detail ?? mapping.detail);
    this.name = 'DomainError';
  }
}

/**
 * A feature's error catalogue: `defineErrors('invitations', { PendingExists: { status: 409, code: 'CONFLICT',
 * detail: '…' } })` gives `InvitationErrors.PendingExists()` (optionally with another detail), so a service
 * throws a named domain error and the mapping to HTTP lives in one table next to the feature.
 */
export function defineErrors<K extends string>(
  feature: string,
  table: Record<K, DomainErrorMapping>,
): Record<K, (detail?: string) => DomainError> {
  const factories = {} as Record<K, (detail?: string) => DomainError>;
  for (const name of Object.keys(table) as K[]) {
    factories[name] = (detail?: string) => new DomainError(`${feature}.${name}`, table[name], detail);
  }
  return factories;
}
