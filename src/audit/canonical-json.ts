import { createHash } from 'node:crypto';

/**
 * Canonical JSON (the RFC 8785 subset Tenantry needs): object keys sorted by code unit, no whitespace,
 * `undefined` members dropped, dates as ISO-8601 strings. Two equal events always serialise identically,
 * so the chain can be recomputed anywhere, including offline from an export.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Non-finite number in canonical JSON');
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      // Plain loops and string concatenation: this runs for every field of every event a verification walks.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += canonicalJson(value[i] === undefined ? null : value[i]);
        }
        return `${out}]`;
      }
      const object = value as Record<string, unknown>;
      // `sort()` without a comparator orders by UTF-16 code units, as RFC 8785 requires.
      const keys = Object.keys(object).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = object[key];
        if (member === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`Cannot serialise ${typeof value} in canonical JSON`);
  }
}

export const GENESIS_HASH = '0'.repeat(64);

/** `hash = SHA-256(prevHash ‖ canonical JSON of the event)`, hex. */
export function chainHash(prevHash: string, canonicalEvent: string): string {
  return createHash('sha256').update(prevHash).update(canonicalEvent).digest('hex');
}
