/** The error codes of API.md. Every problem+json body carries one. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'PRECONDITION_FAILED',
  'PRECONDITION_REQUIRED',
  'WIP_LIMIT',
  'DLP_BLOCKED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  /** Dotted path of the offending field (`steps.2.kind`), or `body` for the document as a whole. */
  field: string;
  message: string;
  /** DLP_BLOCKED: the detector that matched and the field path (the same as `field`); never the matched value. */
  detector?: string;
  path?: string;
}

/**
 * A domain error with an API code. Services throw these (usually through `Errors`); one global filter renders
 * them as RFC 9457 problem+json. Nothing else decides status codes.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** Extension members of the problem body (RFC 9457 §3.2), e.g. OAuth's `error` on the token endpoint. */
    readonly extensions?: Record<string, string | number>,
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

/** The one way to say "not found": the same status, code and detail whether the row is missing or foreign. */
function notFound(resource: string): AppError {
  return new AppError(404, 'NOT_FOUND', `${resource} not found`);
}

export const Errors = {
  notFound,
  validation: (detail: string, errors?: FieldError[]) =>
    new AppError(400, 'VALIDATION_FAILED', detail, errors),
  field: (field: string, message: string) =>
    new AppError(400, 'VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]),
  unauthenticated: (detail = 'Authentication is required or the credential is invalid') =>
    new AppError(401, 'UNAUTHENTICATED', detail),
  forbidden: (detail = 'You are not allowed to do this') => new AppError(403, 'FORBIDDEN', detail),
  conflict: (detail: string) => new AppError(409, 'CONFLICT', detail),
  /** 429 with `Retry-After`; `policy` (the extension member of the same name) names the limit that refused. */
  rateLimited: (retryAfterSeconds: number, detail = 'Too many requests', policy?: string) =>
    new AppError(
      429,
      'RATE_LIMITED',
      detail,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
      policy === undefined ? undefined : { policy },
    ),
  budgetExceeded: (detail: string) => new AppError(429, 'BUDGET_EXCEEDED', detail),
  payloadTooLarge: (detail: string) => new AppError(413, 'PAYLOAD_TOO_LARGE', detail),
  /** 428: a conditional write (`If-Match`) sent without its precondition. */
  preconditionRequired: (detail: string) => new AppError(428, 'PRECONDITION_REQUIRED', detail),
  /** 412: the `If-Match` version is not the current one; the body and the ETag carry the current version. */
  preconditionFailed: (detail: string, currentVersion: number) =>
    new AppError(
      412,
      'PRECONDITION_FAILED',
      detail,
      undefined,
      { ETag: `"${currentVersion}"` },
      { currentVersion },
    ),
  wipLimit: (detail: string) => new AppError(409, 'WIP_LIMIT', detail),
} as const;
