import { v7 as uuidv7, validate, version } from 'uuid';

/** A new UUID v7: time-ordered, so primary-key order is creation order. */
export function newId(): string {
  return uuidv7();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for any syntactically valid UUID (ids from before v7, or test fixtures, are still accepted). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value) && validate(value) && version(value) >= 1;
}
