import { AppError } from '../common/errors/app-error.js';
import { etagOf } from '../common/if-match.js';

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
