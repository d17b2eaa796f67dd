import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const quiet = () => undefined;
const dataDir = () => mkdtempSync(join(tmpdir(), 'tenantry-config-'));

describe('configuration', () => {
  it('gives safe development defaults and generates dev secrets once', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir }, quiet);
    const second = loadConfig({ DATA_DIR: dir }, quiet);
    expect(first.port).toBe(3000);
    expect(first.database.url).toBeUndefined();
    expect(first.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(first.masterKey).toHaveLength(32);
    expect(second.auth.jwtSecret).toBe(first.auth.jwtSecret);
  });

  it('names a malformed variable', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), PORT: 'eighty' }, quiet)).toThrow(/PORT/);
    expect(() => loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: 'mysql://x' }, quiet)).toThrow(
      /DATABASE_URL/,
    );
    expect(() => loadConfig({ DATA_DIR: dataDir(), JWT_ACCESS_TTL_SECONDS: '3600' }, quiet)).toThrow(
      /JWT_ACCESS_TTL_SECONDS/,
    );
  });

  it('schedules the audit export hourly by default; 0 turns it off; anything else out of range is refused', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }, quiet).audit.exportIntervalMs).toBe(3_600_000);
    expect(
      loadConfig({ DATA_DIR: dataDir(), AUDIT_EXPORT_INTERVAL_MINUTES: '5' }, quiet).audit.exportIntervalMs,
    ).toBe(300_000);
    expect(
      loadConfig({ DATA_DIR: dataDir(), AUDIT_EXPORT_INTERVAL_MINUTES: '0' }, quiet).audit.exportIntervalMs,
    ).toBeNull();
    for (const bad of ['-1', '1.5', 'hourly', '20000']) {
      expect(() => loadConfig({ DATA_DIR: dataDir(), AUDIT_EXPORT_INTERVAL_MINUTES: bad }, quiet)).toThrow(
        /AUDIT_EXPORT_INTERVAL_MINUTES/,
      );
    }
  });

  it('refuses missing and weak secrets in production', () => {
    const base = { NODE_ENV: 'production', DATA_DIR: dataDir() };
    expect(() => loadConfig(base, quiet)).toThrow(ConfigError);
    try {
      loadConfig(base, quiet);
    } catch (e) {
      const text = (e as ConfigError).message;
      for (const name of ['DATABASE_URL', 'JWT_SECRET', 'TENANTRY_MASTER_KEY', 'DATABASE_APP_URL'])
        expect(text).toContain(name);
    }
    const strong = {
      ...base,
      DATABASE_URL: 'postgres://owner@db/tenantry',
      DATABASE_APP_PASSWORD: 'a-long-random-app-password',
      JWT_SECRET: 'k3J9x!Qz7mW2pL8vR4tY6uB1nC5hD0fG',
      TENANTRY_MASTER_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString(
        'base64',
      ),
    };
    expect(loadConfig(strong, quiet).isProduction).toBe(true);
    expect(() => loadConfig({ ...strong, JWT_SECRET: 'changeme-changeme-changeme-changeme' }, quiet)).toThrow(
      /JWT_SECRET/,
    );
    expect(() =>
      loadConfig({ ...strong, TENANTRY_MASTER_KEY: Buffer.alloc(32).toString('base64') }, quiet),
    ).toThrow(/TENANTRY_MASTER_KEY/);
  });
});
