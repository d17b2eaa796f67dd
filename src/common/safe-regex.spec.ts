import { describe, expect, it } from 'vitest';
import { userPatternProblem } from './safe-regex.js';

describe('user patterns', () => {
  it('refuse back-references, numbered and named, which RE2 cannot run (a named one would silently mean text)', () => {
    expect(userPatternProblem('(a)\\1')).toMatch(/back-references/);
    expect(userPatternProblem('(?<n>a)\\k<n>')).toMatch(/back-references/);
    expect(userPatternProblem('(?<=a)b')).toMatch(/look-around/);
  });

  it('accept an escaped backslash before a k, and ordinary patterns', () => {
    expect(userPatternProblem('\\\\k<n>')).toBeNull();
    expect(userPatternProblem('^ACME-\\d{6}$')).toBeNull();
    expect(userPatternProblem('(?<year>\\d{4})-\\d{2}')).toBeNull();
  });
});
