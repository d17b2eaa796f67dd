import { Errors } from '../common/errors/app-error.js';

export { etagOf, requiredVersions } from '../common/if-match.js';

/** 412 unless `current` is one of the versions of `If-Match`. */
export function assertVersion(expected: number[], current: number): void {
  if (!expected.includes(current)) {
    throw Errors.preconditionFailed(
      `The card changed since you read it: its current version is ${current}; read it again and retry`,
      current,
    );
  }
}
