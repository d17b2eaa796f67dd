import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error.js';
import { assertVersion, etagOf, requiredVersions } from './if-match.js';

const statusOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.status : -1;
  }
};

describe('If-Match', () => {
  it('requires a version: absent, empty or * answer 428', () => {
    for (const header of [undefined, '', '  ', '*'])
      expect(statusOf(() => requiredVersions(header))).toBe(428);
  });

  it('reads strong, weak, bare and listed tags; anything else matches nothing', () => {
    expect(requiredVersions('"3"')).toEqual([3]);
    expect(requiredVersions('W/"3"')).toEqual([3]);
    expect(requiredVersions('3')).toEqual([3]);
    expect(requiredVersions('"1", W/"2" ,"x"')).toEqual([1, 2]);
    expect(requiredVersions('"abc"')).toEqual([]);
    expect(requiredVersions(['"4"', '"5"'])).toEqual([4, 5]);
  });

  it('answers 412 with the current version when none matches', () => {
    expect(statusOf(() => assertVersion([2], 2))).toBeUndefined();
    try {
      assertVersion([1], 2);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      const error = e as AppError;
      expect(error.status).toBe(412);
      expect(error.code).toBe('PRECONDITION_FAILED');
      expect(error.extensions).toEqual({ currentVersion: 2 });
      expect(error.headers).toEqual({ ETag: etagOf(2) });
    }
  });
});
