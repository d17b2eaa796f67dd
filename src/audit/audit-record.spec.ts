import { describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical-json.js';
import { hashedPart, hashTemplate, SEQ_JOINT, type AuditRecord } from './audit-record.js';

const base: Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'> = {
  id: '01a24949-0000-7000-8000-000000000001',
  companyId: '01a24949-0000-7000-8000-000000000002',
  occurredAt: '2026-12-06T03:00:00.000Z',
  action: 'connector.created',
  actionVersion: 1,
  actor: { type: 'user', id: '01a24949-0000-7000-8000-000000000003' },
  target: { type: 'Connector', id: '01a24949-0000-7000-8000-000000000004' },
  context: { requestId: 'r-1', ip: '127.0.0.1', userAgent: 'curl/8' },
  metadata: { toolId: 'crm.lookup', nested: { prevHash: 'x', seq: 3 }, text: '"prevHash":"' },
};

describe('hashTemplate', () => {
  it('gives the canonical JSON of the event for any prevHash and seq once they are filled in', () => {
    const template = hashTemplate(base, canonicalJson);
    for (const [prevHash, seq] of [
      [GENESIS_HASH, 1],
      ['ab'.repeat(32), 42],
      ['0f'.repeat(32), 9_007_199_254_740],
    ] as const) {
      const full = canonicalJson(hashedPart({ ...base, prevHash, seq, hash: '' }));
      expect(template.before + prevHash + SEQ_JOINT + String(seq) + template.after).toBe(full);
      expect(chainHash(prevHash, template.before + prevHash + SEQ_JOINT + String(seq) + template.after)).toBe(
        chainHash(prevHash, full),
      );
    }
  });

  it('holds for events without a target, actor extras or metadata', () => {
    const bare = {
      ...base,
      target: null,
      metadata: {},
      context: { requestId: null, ip: null, userAgent: null },
    };
    const template = hashTemplate(bare, canonicalJson);
    const full = canonicalJson(hashedPart({ ...bare, prevHash: GENESIS_HASH, seq: 7, hash: '' }));
    expect(template.before + GENESIS_HASH + SEQ_JOINT + '7' + template.after).toBe(full);
  });
});
