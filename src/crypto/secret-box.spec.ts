import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AAD, masterKeyId, newDataKey, open, seal, SecretBoxError } from './secret-box.js';

describe('secret box (AES-256-GCM with bound context)', () => {
  const key = newDataKey();
  const aad = AAD.connectorSecret('company-a', 'connector-1');

  it('round-trips, with a fresh IV per value and no plaintext in the sealed form', () => {
    const secret = Buffer.from('sk_live_super-secret-token');
    const a = seal(key, secret, aad);
    const b = seal(key, secret, aad);
    expect(a).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('super-secret');
    expect(a).not.toContain(secret.toString('base64'));
    expect(open(key, a, aad).equals(secret)).toBe(true);
    expect(open(key, b, aad).equals(secret)).toBe(true);
  });

  it('refuses another key, another company, another connector and any tampering', () => {
    const sealed = seal(key, Buffer.from('value'), aad);
    expect(() => open(newDataKey(), sealed, aad)).toThrow(SecretBoxError);
    expect(() => open(key, sealed, AAD.connectorSecret('company-b', 'connector-1'))).toThrow(SecretBoxError);
    expect(() => open(key, sealed, AAD.connectorSecret('company-a', 'connector-2'))).toThrow(SecretBoxError);
    const [v, iv, tag, ct] = sealed.split(':');
    const flipped = Buffer.from(ct, 'base64');
    flipped[0] ^= 1;
    expect(() => open(key, [v, iv, tag, flipped.toString('base64')].join(':'), aad)).toThrow(SecretBoxError);
    expect(() => open(key, [v, iv, Buffer.alloc(16).toString('base64'), ct].join(':'), aad)).toThrow(
      SecretBoxError,
    );
    expect(() => open(key, `v2:${iv}:${tag}:${ct}`, aad)).toThrow(SecretBoxError);
    expect(() => open(key, 'not sealed', aad)).toThrow(SecretBoxError);
  });

  it('wraps data keys under a master key, bound to the company', () => {
    const master = randomBytes(32);
    const dataKey = newDataKey();
    const wrapped = seal(master, dataKey, AAD.dataKey('company-a'));
    expect(open(master, wrapped, AAD.dataKey('company-a')).equals(dataKey)).toBe(true);
    expect(() => open(master, wrapped, AAD.dataKey('company-b'))).toThrow(SecretBoxError);
  });

  it('identifies master keys by a stable fingerprint that differs per key', () => {
    const master = randomBytes(32);
    expect(masterKeyId(master)).toMatch(/^[0-9a-f]{16}$/);
    expect(masterKeyId(master)).toBe(masterKeyId(Buffer.from(master)));
    expect(masterKeyId(randomBytes(32))).not.toBe(masterKeyId(master));
    expect(() => masterKeyId(randomBytes(16))).toThrow();
  });
});
