import { describe, expect, it } from 'vitest';
import { ifMatchAllows } from './wiki.errors.js';
import { freeSlug, slugBase } from './wiki-slug.js';

describe('wiki slugs', () => {
  it('derive from the title with the company slug rules', () => {
    expect(slugBase('Onboarding: Day One!')).toBe('onboarding-day-one');
    expect(slugBase('Café  Règles')).toBe('cafe-regles');
    expect(slugBase('日本語')).toBe('page');
    expect(slugBase('***')).toBe('page');
  });

  it('take the first free numeric suffix', () => {
    expect(freeSlug('a', new Set())).toBe('a');
    expect(freeSlug('a', new Set(['a', 'a-2']))).toBe('a-3');
  });
});

describe('If-Match', () => {
  it('matches the current version, a list containing it, or *', () => {
    expect(ifMatchAllows('"3"', 3)).toBe(true);
    expect(ifMatchAllows(' "1", "3" ', 3)).toBe(true);
    expect(ifMatchAllows('*', 3)).toBe(true);
    expect(ifMatchAllows('3', 3)).toBe(true);
  });

  it('does not match another version, a weak tag or garbage', () => {
    expect(ifMatchAllows('"2"', 3)).toBe(false);
    expect(ifMatchAllows('W/"3"', 3)).toBe(false);
    expect(ifMatchAllows('"33"', 3)).toBe(false);
    expect(ifMatchAllows('', 3)).toBe(false);
  });
});
