import { describe, expect, it } from 'vitest';
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
