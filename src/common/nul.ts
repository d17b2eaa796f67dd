/**
 * NUL (`\u0000`) in text. PostgreSQL stores no NUL in `text` (SQLSTATE 22021) nor in `jsonb` (22P05), and a NUL
 * in a query's text breaks the wire protocol (08P01): request bodies holding one are refused by the JSON parser
 * (`json-body.ts`), and text that reaches the database from elsewhere (connector outputs, error messages,
 * prompts interpolated from them) is scrubbed with these helpers first.
 */

/** What a NUL becomes when scrubbed: the Unicode replacement character, so that something visibly stood there. */
export const NUL_REPLACEMENT = '\uFFFD';

export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

/** `text` with every NUL replaced by {@link NUL_REPLACEMENT}. */
export function withoutNul(text: string): string {
  return hasNul(text) ? text.replaceAll('\u0000', NUL_REPLACEMENT) : text;
}

/** A copy of a JSON value whose strings (object keys too) hold no NUL; the value itself when none does. */
export function scrubNul<T>(value: T): T {
  if (typeof value === 'string') return withoutNul(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item: unknown) => {
      const scrubbed = scrubNul(item);
      if (scrubbed !== item) changed = true;
      return scrubbed;
    });
    return (changed ? out : value) as T;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const entries = Object.entries(value as Record<string, unknown>).map(([key, item]): [string, unknown] => {
      const k = withoutNul(key);
      const v: unknown = scrubNul(item);
      if (k !== key || v !== item) changed = true;
      return [k, v];
    });
    return (changed ? Object.fromEntries(entries) : value) as T;
  }
  return value;
}
