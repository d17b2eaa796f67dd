import { CardErrors } from './boards.errors.js';

export { etagOf, requiredVersions } from '../common/if-match.js';

/** 412 unless `current` is one of the versions of `If-Match`. */
export function assertVersion(expected: number[], current: number): void {
  if (!expected.includes(current)) {
    throw CardErrors.Stale(current);
  }
}
