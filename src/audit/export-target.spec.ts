import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportKey, FileExportTarget, parseExportUrl } from './export-target.js';

describe('audit export targets', () => {
  it('partitions by company and UTC day, one key per event', () => {
    expect(
      exportKey({
        companyId: 'c1',
        id: '01900000-0000-7000-8000-000000000001',
        occurredAt: '2026-03-09T23:59:59.999Z',
      }),
    ).toBe('audit/c1/2026/03/09/01900000-0000-7000-8000-000000000001.json');
  });

  it('parses file:// and s3:// URLs, with percent-encoded credentials, region and ssl', () => {
    expect(parseExportUrl('file:///var/exports/audit')).toEqual({ kind: 'file', root: '/var/exports/audit' });
    expect(
      parseExportUrl(
        's3://AKIA1:se%2Fcr%2Bet@minio.local:9000/backups/tenantry/audit?region=eu-west-1&ssl=false',
      ),
    ).toEqual({
      kind: 's3',
      endpoint: 'http://minio.local:9000',
      bucket: 'backups',
      prefix: 'tenantry/audit',
      region: 'eu-west-1',
      accessKeyId: 'AKIA1',
      secretAccessKey: 'se/cr+et',
    });
    expect(parseExportUrl('s3://k:s@s3.amazonaws.com/b')).toMatchObject({
      endpoint: 'https://s3.amazonaws.com',
      prefix: '',
      region: 'us-east-1',
    });
    expect(() => parseExportUrl('s3://s3.amazonaws.com/b')).toThrow(/credentials/);
    expect(() => parseExportUrl('s3://k:s@host')).toThrow(/bucket/);
    expect(() => parseExportUrl('ftp://k:s@host/b')).toThrow(/file:\/\/, s3:\/\//);
  });

  it('writes files atomically and idempotently', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tenantry-export-'));
    const target = new FileExportTarget(root);
    await target.put('audit/c1/2026/01/02/e1.json', '{"a":1}\n');
    await target.put('audit/c1/2026/01/02/e1.json', '{"a":1}\n');
    expect(readFileSync(join(root, 'audit/c1/2026/01/02/e1.json'), 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(join(root, 'audit/c1/2026/01/02'))).toEqual(['e1.json']);
    await expect(target.put('../escape.json', '{}')).rejects.toThrow(/escapes/);
  });
});
