import { AppError } from '../common/errors/app-error.js';

/** `ETag` of a version: a strong entity tag holding the number. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** 428: a change of a page must say which version it is based on. */
export function preconditionRequired(): AppError {
  return new AppError(
    428,
    'PRECONDITION_REQUIRED',
    'This change requires an If-Match header with the ETag of the version it is based on',
  );
}

/** 412: the page changed since the version the caller based its change on; the body names the current one. */
export function preconditionFailed(current: number): AppError {
  return new AppError(
    412,
    'PRECONDITION_FAILED',
    `The page has changed: its current version is ${current}; reload it and apply your change again`,
    undefined,
    { ETag: etagOf(current) },
    { currentVersion: String(current) },
  );
}

/**
 * Whether an `If-Match` value (RFC 9110 §13.1.1) matches the current version: `*`, or a list of entity tags of
 * which one is `"<version>"` (or the bare number; strong comparison: a weak `W/"…"` tag never matches). An unparsable value matches
 * nothing (412), an absent one is for the caller to refuse (428).
 */
export function ifMatchAllows(header: string, version: number): boolean {
  const value = header.trim();
  if (value === '*') return true;
  const current = etagOf(version);
  // A bare number is read as that version's tag: clients that drop the quotes mean the same thing.
  return value.split(',').some((tag) => tag.trim() === current || tag.trim() === String(version));
}
