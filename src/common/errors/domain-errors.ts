import { AppError, type ErrorCode, type FieldError } from './app-error.js';

/** What a domain error puts in the problem body besides its status and code (and any headers it answers with). */
export interface ProblemParts {
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  /** Extension members of the body (RFC 9457 §3.2), e.g. `currentVersion` of a 412. */
  readonly extensions?: Record<string, string | number>;
}

/** A detail built from the factory's arguments: the detail alone, or with the other parts of the body. */
export type DetailBuilder = (...args: never[]) => string | ProblemParts;

/** How one domain error of a feature is answered: the HTTP status and the API code of API.md. */
export interface DomainErrorMapping {
  readonly status: number;
  readonly code: ErrorCode;
  /**
   * The caller-safe detail: a fixed one (the default; a factory may pass its own), or a function whose
   * parameters become the factory's (`(cards: number) => \`The column holds ${cards} card(s): …\``).
   */
  readonly detail: string | DetailBuilder;
}

/**
 * A domain error: a feature's own name for what went wrong (`invitations.PendingExists`), carrying the status and
 * API code its feature mapped it to. The one filter (`toProblem`) renders it like any `AppError`; the name is
 * for logs and tests, and never changes the problem body.
 */
export class DomainError extends AppError {
  constructor(
    readonly domainCode: string,
    mapping: Pick<DomainErrorMapping, 'status' | 'code'>,
    parts: ProblemParts,
  ) {
    super(mapping.status, mapping.code, parts.detail, parts.errors, parts.headers, parts.extensions);
    this.name = 'DomainError';
  }
}

/** The body of a 400/409 about one field, exactly as `Errors.field` words it: `<field>: <message>` and `errors`. */
export function fieldProblem(field: string, message: string): ProblemParts {
  return { detail: `${field}: ${message}`, errors: [{ field, message }] };
}

/** The factory of one catalogue entry: the builder's parameters, or an optional other detail for a fixed one. */
export type DomainErrorFactory<D> = [D] extends [(...args: infer A) => string | ProblemParts]
  ? (...args: A) => DomainError
  : (detail?: string) => DomainError;

/** A feature's catalogue: one factory per entry of its table. */
export type ErrorCatalogue<T extends Record<string, DomainErrorMapping>> = {
  readonly [K in keyof T]: DomainErrorFactory<T[K]['detail']>;
};

/**
 * A feature's error catalogue: `defineErrors('invitations', { PendingExists: { status: 409, code: 'CONFLICT',
 * detail: '…' } })` gives `InvitationErrors.PendingExists()` (optionally with another detail), so a service
 * throws a named domain error and the mapping to HTTP lives in one table next to the feature. An entry whose
 * detail is a function takes that function's parameters (`BoardErrors.WipLimitReached(name, wipLimit)`).
 */
export function defineErrors<T extends Record<string, DomainErrorMapping>>(
  feature: string,
  table: T,
): ErrorCatalogue<T> {
  const factories: Record<string, (...args: unknown[]) => DomainError> = {};
  for (const [name, mapping] of Object.entries(table)) {
    const { detail } = mapping;
    const partsOf = (args: unknown[]): ProblemParts => {
      if (typeof detail !== 'function') return { detail: typeof args[0] === 'string' ? args[0] : detail };
      const built = detail(...(args as never[]));
      return typeof built === 'string' ? { detail: built } : built;
    };
    factories[name] = (...args: unknown[]) => new DomainError(`${feature}.${name}`, mapping, partsOf(args));
  }
  return factories as unknown as ErrorCatalogue<T>;
}
