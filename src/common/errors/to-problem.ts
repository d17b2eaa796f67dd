import { HttpException } from '@nestjs/common';
import {
  CheckConstraintViolationException,
  DriverException,
  ForeignKeyConstraintViolationException,
  NotFoundError,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { AppError, type ErrorCode, type FieldError } from './app-error.js';
import { fromDeferredTriggerError } from './deferred-trigger-error.js';
import { DomainError } from './domain-errors.js';
import { codeForStatus, problem, type ProblemDetails } from './problem.js';
import { ServiceUnavailableError } from './service-unavailable.js';

export interface RenderedProblem {
  body: ProblemDetails;
  headers: Record<string, string>;
  /** Whether the server failed (logged as an error with its cause) rather than the caller. */
  serverFault: boolean;
  /** Whether this looks like an attempt to cross a tenancy wall (logged as a warning). */
  wallHit: boolean;
  /** A domain error's own name (`boards.WipLimitReached`), for logs; never part of the body. */
  domainCode?: string;
}

/** SQLSTATEs raised by Tenantry's own triggers: `TY4xx` carry an HTTP status and a caller-safe message. */
const TRIGGER_STATE = /^TY(4\d\d)$/;

/**
 * Text PostgreSQL cannot take: a NUL in a `text` value (22021) or in `jsonb` (22P05, "unsupported Unicode escape
 * sequence"), or in a query's own text, which breaks the wire protocol (08P01). The JSON body parser refuses a NUL
 * up front; this catches any that arrive another way (a query string, a path).
 */
const UNSTORABLE_TEXT_STATES = new Set(['22021', '22P05', '08P01']);

/** Seconds a caller is told to wait when the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Driver errno codes of a connection that could not be made or was lost. */
const UNREACHABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * SQLSTATEs of a database that cannot serve anyone right now: connection exceptions (class 08, except the
 * protocol violation a NUL causes), refused logins (28: a password changed under the instance), a server shutting
 * down or starting (57P01-57P03), too many connections (53300), a missing database (3D000).
 */
function isUnavailableState(code: string): boolean {
  return (
    (code.startsWith('08') && code !== '08P01') ||
    code.startsWith('28') ||
    ['57P01', '57P02', '57P03', '53300', '3D000'].includes(code)
  );
}

/** Messages of node-postgres' pool and client when no connection could be had. */
const UNREACHABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable|Client was closed and is not queryable/i;

/**
 * Whether an error means "the database cannot be reached" (refused, timed out, authentication failed, shutting
 * down): the caller should come back later (503), it did nothing wrong. Looks through `cause` chains, since the
 * ORM wraps the driver's error.
 */
export function isDatabaseUnavailable(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 4) return false;
  const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (UNREACHABLE_ERRNO.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && isUnavailableState(code)) {
      return e instanceof DriverException || 'severity' in e || depth > 0;
    }
  }
  if (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message)) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

function isFastifyError(e: unknown): e is FastifyLikeError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as FastifyLikeError).code === 'string' &&
    (e as FastifyLikeError).code!.startsWith('FST_')
  );
}

function fromFastify(e: FastifyLikeError): { status: number; code: ErrorCode; detail: string } {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'The request body exceeds the 1 MiB limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        detail: 'Unsupported content type: send application/json',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'The JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'Invalid Content-Length' };
    // Raised by the router before any route runs (through `frameworkErrors`, see fastify-errors.ts); their
    // messages would echo the whole path, so they get a detail of their own.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, code: 'VALIDATION_FAILED', detail: 'A path parameter is longer than allowed' };
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        code: 'VALIDATION_FAILED',
        detail: 'The URL is not valid (a malformed percent-encoding)',
      };
    default: {
      const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 400;
      return { status, code: codeForStatus(status), detail: e.message };
    }
  }
}

/**
 * The SQLSTATE of a database error: one the ORM converted (`DriverException`), or the driver's own (reads that
 * bypass the ORM, such as `ScopedReader`'s, and errors raised at COMMIT), which carries `code` and `severity`.
 */
function databaseErrorState(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, severity } = e as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return e instanceof DriverException || typeof severity === 'string' ? code : undefined;
}

function httpExceptionDetail(e: HttpException): string {
  const response = e.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return e.message;
}

/**
 * Maps anything thrown while serving a request to problem+json. Domain errors keep their code; framework,
 * parser and database errors are translated; anything else is a 500 whose cause is logged, never returned.
 */
export function toProblem(thrown: unknown, requestId: string): RenderedProblem {
  // A deferred constraint trigger refuses at COMMIT, outside the ORM's error conversion (see the helper).
  const error = fromDeferredTriggerError(thrown);
  const out = (
    status: number,
    code: ErrorCode,
    detail: string,
    extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      wallHit?: boolean;
      extensions?: Record<string, string | number>;
    } = {},
  ): RenderedProblem => ({
    body: { ...extra.extensions, ...problem(status, code, detail, requestId, extra.errors) },
    headers: extra.headers ?? {},
    serverFault: status >= 500,
    wallHit: extra.wallHit ?? false,
  });

  if (error instanceof AppError) {
    const rendered = out(error.status, error.code, error.detail, {
      errors: error.errors,
      headers: error.headers,
      extensions: error.extensions,
    });
    return error instanceof DomainError ? { ...rendered, domainCode: error.domainCode } : rendered;
  }
  if (error instanceof ServiceUnavailableError) {
    // A server fault all the same (logged with its real cause); the caller only learns to come back later.
    return out(
      503,
      'INTERNAL',
      'The service cannot complete this request right now; try again later, and quote the request id if it persists',
      { headers: { 'Retry-After': String(error.retryAfterSeconds) } },
    );
  }
  if (isDatabaseUnavailable(error)) {
    // Logged as a server fault with its cause; the caller learns only to retry shortly.
    return out(
      503,
      'INTERNAL',
      'The service is temporarily unavailable (its database cannot be reached); try again shortly',
      { headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } },
    );
  }
  if (error instanceof NotFoundError) {
    return out(404, 'NOT_FOUND', 'Resource not found');
  }
  if (error instanceof UniqueConstraintViolationException) {
    return out(409, 'CONFLICT', 'A resource with the same unique value already exists');
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    return out(409, 'CONFLICT', 'The change refers to a resource that does not exist or is still referenced');
  }
  if (
    error instanceof NotNullConstraintViolationException ||
    error instanceof CheckConstraintViolationException
  ) {
    return out(400, 'VALIDATION_FAILED', 'The change violates a constraint of the resource');
  }
  if (error instanceof DriverException) {
    const sqlState = (error as DriverException & { code?: string }).code ?? '';
    const trigger = TRIGGER_STATE.exec(sqlState);
    if (trigger) {
      const status = Number(trigger[1]);
      const message = error.message.split('\n')[0]?.replace(/^.*? - /, '') ?? 'Refused';
      return out(status, codeForStatus(status), message);
    }
    if (sqlState === '42501') {
      // Row-level security refused the statement: answer like a missing row, and let the logs shout.
      return out(404, 'NOT_FOUND', 'Resource not found', { wallHit: true });
    }
    if (sqlState === '22P02' || sqlState === '22007' || sqlState === '22008' || sqlState === '22009') {
      return out(400, 'VALIDATION_FAILED', 'A value has an invalid format');
    }
  }
  const sqlState = databaseErrorState(error);
  if (sqlState !== undefined && UNSTORABLE_TEXT_STATES.has(sqlState)) {
    return out(
      400,
      'VALIDATION_FAILED',
      'A value contains a character that cannot be stored (such as \\u0000)',
    );
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return out(status, codeForStatus(status), httpExceptionDetail(error));
  }
  if (isFastifyError(error)) {
    const f = fromFastify(error);
    return out(f.status, f.code, f.detail);
  }
  if (error instanceof SyntaxError && 'statusCode' in error) {
    return out(400, 'VALIDATION_FAILED', 'The body is not valid JSON');
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return out(status, codeForStatus(status), (error as Error).message ?? 'Bad request');
  }
  return out(500, 'INTERNAL', 'An unexpected error occurred; quote the request id when reporting it');
}
