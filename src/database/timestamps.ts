import { createRequire } from 'node:module';

/**
 * postgres-date is CommonJS whose typings declare an ES default export; imported as ESM its default is the
 * function at run time but typed as a module object, so it is required (typed from its own declaration).
 */
const parsePostgresDate = createRequire(import.meta.url)(
  'postgres-date',
) as typeof import('postgres-date').default;

/**
 * A timestamp read without the ORM as a Date: a rows' `timestamptz` arrives as PostgreSQL's text
 * (`2026-12-07 10:11:12.345678+00`, MikroORM's type parsers leave it so), a `row_to_json` one as ISO text, an
 * entity's as a Date. `new Date(text)` is JavaScript's legacy parse for PostgreSQL's text: year 0050 read as 1950,
 * an offset with seconds (`+00:53:28`) as an invalid date. postgres-date, the parse MikroORM's platform hydrates
 * entities with, reads it as PostgreSQL meant it, so a row and an entity answer the same instant.
 */
export function instant(value: Date | string): Date {
  if (typeof value !== 'string') return value;
  // ISO text (`T` after the date) is JavaScript's own format; postgres-date answers null for it.
  const parsed = value.charAt(10) === 'T' ? new Date(value) : parsePostgresDate(value);
  if (!(parsed instanceof Date) || Number.isNaN(parsed.getTime())) {
    throw new RangeError(`Not a finite timestamp: ${value}`);
  }
  return parsed;
}

/** A timestamp as the API writes it (ISO 8601, UTC, milliseconds). */
export function isoInstant(value: Date | string): string {
  return instant(value).toISOString();
}
