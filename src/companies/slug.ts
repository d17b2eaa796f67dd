import { randomBytes } from 'node:crypto';

/** A URL-safe slug of a company name: lower-case ASCII letters, digits and single dashes, ≤ 60 characters. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/g, '');
  return slug || 'company';
}

/** The slug with a short random suffix, for when the plain slug is taken. */
export function suffixedSlug(base: string): string {
  return `${base.slice(0, 53)}-${randomBytes(4).toString('hex').slice(0, 6)}`;
}
