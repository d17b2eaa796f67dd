import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from './audit-record.js';
import { GENESIS_HASH } from './canonical-json.js';
import { ChainVerifier, expectedHash, verifyChain } from './chain-verifier.js';

const COMPANY = '01900000-0000-7000-8000-0000000000aa';

function chain(n: number, companyId = COMPANY): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const record: AuditRecord = {
      id: `01900000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
      companyId,
      seq,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      action: 'member.role_changed',
      actionVersion: 1,
      actor: seq % 2 ? { type: 'user', id: 'u1' } : { type: 'api_key', id: 'k1', onBehalfOf: 'u1' },
      target: seq % 3 ? { type: 'Member', id: `m${seq}` } : null,
      context: { requestId: `r${seq}`, ip: '127.0.0.1', userAgent: null },
      metadata: { from: 'member', to: 'manager', n: seq, nested: { b: [1, 2], a: 'x' } },
      prevHash,
      hash: '',
    };
    record.hash = expectedHash(record);
    prevHash = record.hash;
    out.push(record);
  }
  return out;
}

const clone = <T>(v: T): T => structuredClone(v);

describe('chain verifier', () => {
  it('accepts a whole chain and reports its ends', () => {
    const records = chain(10);
    const result = verifyChain(records, { fromGenesis: true });
    expect(result).toEqual({
      valid: true,
      checked: 10,
      companyId: COMPANY,
      firstSeq: 1,
      lastSeq: 10,
      anchorHash: GENESIS_HASH,
      lastHash: records[9].hash,
    });
  });

  it('finds an edited event at its own seq, once', () => {
    const records = chain(10);
    records[4].metadata = { ...records[4].metadata, to: 'owner' };
    const result = verifyChain(records, { fromGenesis: true });
    expect(result).toMatchObject({ valid: false, checked: 10, firstBrokenSeq: 5, firstBrokenPosition: 5 });
    expect(result.reason).toMatch(/seq 5: hash does not match/);
  });

  it('finds an event whose hash was recomputed after an edit at the next link', () => {
    const records = chain(10);
    records[4].actor = { type: 'user', id: 'someone-else' };
    records[4].hash = expectedHash(records[4]);
    expect(verifyChain(records)).toMatchObject({ valid: false, firstBrokenSeq: 6 });
  });

  it('finds a missing event, a repeated one and events out of order', () => {
    const records = chain(10);
    expect(verifyChain([...records.slice(0, 3), ...records.slice(4)])).toMatchObject({
      valid: false,
      firstBrokenSeq: 4,
      reason: 'seq 4 missing (next is 5)',
    });
    expect(verifyChain([...records.slice(0, 6), records[5], ...records.slice(6)])).toMatchObject({
      valid: false,
      firstBrokenSeq: 6,
    });
    const swapped = [...records];
    [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
    expect(verifyChain(swapped)).toMatchObject({ valid: false, firstBrokenSeq: 3 });
  });

  it('accepts a piece that starts later, trusting and reporting its anchor; a whole chain must start at 1', () => {
    const records = chain(10).slice(4);
    expect(verifyChain(records)).toMatchObject({
      valid: true,
      checked: 6,
      firstSeq: 5,
      anchorHash: chain(10)[3].hash,
    });
    expect(verifyChain(records, { fromGenesis: true })).toMatchObject({ valid: false, firstBrokenSeq: 1 });
  });

  it('requires the genesis hash before seq 1, one company, and the record shape', () => {
    const records = chain(3);
    const rooted = clone(records);
    rooted[0].prevHash = 'f'.repeat(64);
    rooted[0].hash = expectedHash(rooted[0]);
    expect(verifyChain(rooted)).toMatchObject({ valid: false, firstBrokenSeq: 1 });

    const foreign = chain(3, '01900000-0000-7000-8000-0000000000bb');
    expect(verifyChain([records[0], foreign[1]])).toMatchObject({ valid: false, firstBrokenSeq: 2 });

    for (const broken of [
      'text',
      { ...records[1], seq: '2' },
      { ...records[1], hash: 'ABC' },
      { ...records[1], actor: null },
      { ...records[1], metadata: [] },
      { ...records[1], context: { requestId: 1 } },
    ]) {
      const result = verifyChain([records[0], broken, records[2]]);
      expect(result, JSON.stringify(broken)).toMatchObject({ valid: false, firstBrokenSeq: 2, checked: 3 });
    }
    const verifier = new ChainVerifier();
    verifier.push(records[0]);
    verifier.reject('not valid JSON', 7);
    expect(verifier.finish()).toMatchObject({ valid: false, firstBrokenSeq: 2, firstBrokenPosition: 7 });
  });

  it('checks the end of the chain against the head', () => {
    const records = chain(5);
    const walk = (list: AuditRecord[], head: { seq: number; hash: string }) => {
      const v = new ChainVerifier({ fromGenesis: true });
      list.forEach((r) => v.push(r));
      return v.finish(head);
    };
    expect(walk(records, { seq: 5, hash: records[4].hash }).valid).toBe(true);
    expect(walk(records.slice(0, 4), { seq: 5, hash: records[4].hash })).toMatchObject({
      valid: false,
      firstBrokenSeq: 5,
    });
    expect(walk(records, { seq: 4, hash: records[3].hash })).toMatchObject({
      valid: false,
      firstBrokenSeq: 5,
    });
    expect(walk(records, { seq: 5, hash: 'e'.repeat(64) })).toMatchObject({
      valid: false,
      firstBrokenSeq: 5,
    });
    expect(walk([], { seq: 0, hash: GENESIS_HASH })).toMatchObject({ valid: true, checked: 0 });
    expect(walk([], { seq: 2, hash: records[1].hash })).toMatchObject({ valid: false, firstBrokenSeq: 1 });
  });

  it('depends on nothing but canonical JSON and the record shape (so it runs offline)', () => {
    const allowed = new Set([
      './canonical-json.js',
      './audit-record.js',
      './chain-verifier.js',
      './export-trailer.js',
      'node:crypto',
      'node:fs',
      'node:fs/promises',
      'node:path',
      'node:readline',
    ]);
    for (const file of [
      'chain-verifier.ts',
      'canonical-json.ts',
      'audit-record.ts',
      'export-trailer.ts',
      'offline-verifier.ts',
    ]) {
      const source = readFileSync(join(import.meta.dirname, file), 'utf8');
      for (const match of source.matchAll(/^import (type )?[^;]*? from '([^']+)';/gms)) {
        if (match[1]) continue; // type-only: erased
        expect(allowed.has(match[2]), `${file} imports ${match[2]}`).toBe(true);
      }
    }
  });
});
