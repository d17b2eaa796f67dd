import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical-json.js';

/** The first, straightforward implementation: the faster one must produce the same bytes for everything. */
function reference(value: unknown): string {
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
        return `[${value.map((v) => reference(v === undefined ? null : v)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Cannot serialise ${typeof value} in canonical JSON`);
  }
}

/** A small deterministic PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = ['a', 'b', 'B', 'é', 'ä', '😀', '10', '2', '', 'z', 'a b', '"q"', '\u0001', 'aa', 'ab'];
function randomValue(next: () => number, depth = 0): unknown {
  const r = next();
  if (depth > 3 || r < 0.35) {
    const pick = Math.floor(next() * 9);
    return [
      null,
      undefined,
      true,
      false,
      Math.floor(next() * 2000) - 1000,
      next() * 1e6,
      -0,
      `s${KEYS[Math.floor(next() * KEYS.length)]}\n\t"\\`,
      new Date(Math.floor(next() * 2e12)),
    ][pick];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    object[KEYS[Math.floor(next() * KEYS.length)]] = randomValue(next, depth + 1);
  }
  return object;
}

describe('canonical JSON', () => {
  it('sorts keys by code unit, drops undefined members, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [1, undefined, 'x'], c: undefined, B: null, é: true })).toBe(
      '{"B":null,"a":[1,null,"x"],"b":1,"é":true}',
    );
    expect(canonicalJson({ when: new Date('2026-01-02T03:04:05.678Z') })).toBe(
      '{"when":"2026-01-02T03:04:05.678Z"}',
    );
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('produces exactly the bytes of the reference implementation on 5,000 random values', () => {
    const next = prng(42);
    for (let i = 0; i < 5_000; i++) {
      const value = randomValue(next);
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });

  it('chains as SHA-256(prevHash ‖ canonical event), hex', () => {
    const canonical = canonicalJson({ a: 1 });
    expect(chainHash(GENESIS_HASH, canonical)).toBe(
      createHash('sha256').update(`${GENESIS_HASH}${canonical}`).digest('hex'),
    );
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });
});
