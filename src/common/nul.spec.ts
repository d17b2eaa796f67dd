import { describe, expect, it } from 'vitest';
import { findNul } from './json-body.js';
import { NUL_REPLACEMENT, scrubNul, withoutNul } from './nul.js';

describe('NUL in text', () => {
  it('finds the first string or key holding a NUL, by its dotted path', () => {
    expect(findNul({ a: [1, 'ok', { b: 'x\u0000' }] })).toEqual({
      field: 'a.2.b',
      message: expect.stringContaining('NUL') as string,
    });
    expect(findNul({ a: { 'k\u0000': 1 } })).toEqual({
      field: 'a',
      message: expect.stringContaining('key') as string,
    });
    expect(findNul('\u0000')?.field).toBe('body');
    expect(findNul({ a: ['fine', null, 3, { b: true }] })).toBeNull();
  });

  it('scrubs strings and keys of a JSON value, returning the same value when there is nothing to scrub', () => {
    expect(withoutNul('a\u0000b\u0000')).toBe(`a${NUL_REPLACEMENT}b${NUL_REPLACEMENT}`);
    const clean = { a: [1, 'x', { b: null }] };
    expect(scrubNul(clean)).toBe(clean);
    expect(scrubNul({ 'k\u0000': ['v\u0000', 2], n: 1 })).toEqual({
      [`k${NUL_REPLACEMENT}`]: [`v${NUL_REPLACEMENT}`, 2],
      n: 1,
    });
  });
});
