/** The small field checks of the definition validator, and the envelope (depth, size) walk. */
import { MAX_ERRORS, type FieldError } from './definition-types.js';

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function join(base: string, segment: string | number): string {
  return base === '' ? String(segment) : `${base}.${segment}`;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export class Collector {
  readonly errors: FieldError[] = [];
  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }
  get count(): number {
    return this.errors.length;
  }
  result(): FieldError[] {
    if (this.errors.length <= MAX_ERRORS) return this.errors;
    const hidden = this.errors.length - MAX_ERRORS;
    return [
      ...this.errors.slice(0, MAX_ERRORS),
      { field: '', message: `${hidden} more error${hidden === 1 ? '' : 's'} not shown` },
    ];
  }
}

/**
 * Checks a required or optional string with a length range (non-blank). Returns the string when valid.
 */
export function checkText(
  errors: Collector,
  field: string,
  value: unknown,
  max: number,
  required: boolean,
): string | undefined {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.add(field, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.trim().length === 0) {
    errors.add(field, 'must not be empty');
    return undefined;
  }
  if (value.length > max) {
    errors.add(field, `must be at most ${max} characters (got ${value.length})`);
    return undefined;
  }
  return value;
}

export function checkInteger(
  errors: Collector,
  field: string,
  value: unknown,
  range: { min: number; max: number },
  required: boolean,
): void {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    errors.add(field, `must be an integer, got ${describe(value)}`);
    return;
  }
  if (value < range.min || value > range.max) {
    errors.add(
      field,
      range.max === Number.MAX_SAFE_INTEGER
        ? `must be at least ${range.min}`
        : `must be between ${range.min} and ${range.max}`,
    );
  }
}

export function checkPattern(
  errors: Collector,
  field: string,
  value: unknown,
  pattern: RegExp,
  max: number,
  what: string,
  required: boolean,
): string | undefined {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.add(field, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.length > max) {
    errors.add(field, `must be at most ${max} characters (got ${value.length})`);
    return undefined;
  }
  if (!pattern.test(value)) {
    errors.add(field, `must be ${what} matching ${pattern.source}`);
    return undefined;
  }
  return value;
}

export function checkOneOf<T extends string>(
  errors: Collector,
  field: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) {
    errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : describe(value);
  errors.add(field, `must be one of ${allowed.join(', ')}, got ${got}`);
  return undefined;
}

export function checkUnknownFields(
  errors: Collector,
  base: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
  context: string,
): void {
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) errors.add(join(base, name), `unknown field on ${context}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Envelope: depth and size, checked before anything else
// ---------------------------------------------------------------------------------------------

export type EnvelopeVerdict = 'ok' | 'too-deep' | 'too-large';

/**
 * Walks the value, stopping as soon as it is nested deeper than `maxDepth` (so a cyclic or absurdly
 * deep value cannot overflow the stack) or holds more content than `maxBytes` could serialize to.
 */
export function inspectEnvelope(value: unknown, maxDepth: number, maxBytes: number): EnvelopeVerdict {
  let budget = maxBytes;
  const visit = (node: unknown, depth: number): EnvelopeVerdict => {
    budget -= 1;
    if (typeof node === 'string') budget -= node.length;
    if (budget < 0) return 'too-large';
    if (typeof node !== 'object' || node === null) return 'ok';
    if (depth + 1 > maxDepth) return 'too-deep';
    const children: unknown[] = Array.isArray(node) ? node : Object.entries(node).flat();
    for (const child of children) {
      const verdict = visit(child, depth + 1);
      if (verdict !== 'ok') return verdict;
    }
    return 'ok';
  };
  return visit(value, 0);
}

/** Nesting depth of a JSON value: a primitive is 0, `{}` is 1, `{"a":[]}` is 2. Stops past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    deepest = Math.max(deepest, jsonDepth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}
