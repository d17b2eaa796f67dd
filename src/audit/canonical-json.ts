import { createHash } from 'node:crypto';

/**
 * Canonical JSON (the RFC 8785 subset Tenantry needs): object keys sorted by code unit, no whitespace,
 * `undefined` members dropped, dates as ISO-8601 strings. Two equal events always serialise identically,
 * so the chain can be recomputed anywhere, including offline from an export.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Non-finite number in canonical JSON');
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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
