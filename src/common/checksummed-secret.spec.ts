import { describe, expect, it } from 'vitest';
import { ChecksummedSecretFormat, checksumOf, randomBase62 } from './checksummed-secret.js';

describe('checksummed secrets', () => {
  const format = new ChecksummedSecretFormat('sk_live_', 30);

  it('mints secrets of the documented shape that verify', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const secret = format.mint();
      expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
      expect(format.isWellFormed(secret)).toBe(true);
      seen.add(secret);
    }
    expect(seen.size).toBe(200);
  });

  it('refuses any single-character change, truncation or extension', () => {
    const secret = format.mint();
    for (let i = 'sk_live_'.length; i < secret.length; i++) {
      if (secret[i] === '_') continue;
      const changed = `${secret.slice(0, i)}${secret[i] === 'a' ? 'b' : 'a'}${secret.slice(i + 1)}`;
      expect(format.isWellFormed(changed), changed).toBe(false);
    }
    expect(format.isWellFormed(secret.slice(0, -1))).toBe(false);
    expect(format.isWellFormed(`${secret}0`)).toBe(false);
    expect(format.isWellFormed(secret.replace('sk_live_', 'sk_test_'))).toBe(false);
    expect(format.isWellFormed('')).toBe(false);
  });

  it('encodes the CRC32 as six base62 digits, zero-padded', () => {
    expect(checksumOf('')).toBe('000000');
    expect(checksumOf('sk_live_x')).toMatch(/^[0-9A-Za-z]{6}$/);
  });

  it('draws base62 characters without bias towards the first ones', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(800);
      expect(n).toBeLessThan(1200);
    }
  });
});
