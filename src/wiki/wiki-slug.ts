import { slugify } from '../companies/slug.js';

/**
 * The slug a title suggests: the company slug rules (lower-case ASCII letters, digits, single dashes, ≤ 60
 * characters), or `page` when the title has no letter or digit that survives them.
 */
export function slugBase(title: string): string {
  const plain = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  return /[a-z0-9]/.test(plain) ? slugify(title) : 'page';
}

/** `base`, else `base-2`, `base-3`, …: the first that is not taken. */
export function freeSlug(base: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const slug = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(slug)) return slug;
  }
}
