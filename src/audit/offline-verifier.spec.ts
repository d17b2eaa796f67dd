import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from './audit-record.js';
import { GENESIS_HASH } from './canonical-json.js';
import { expectedHash } from './chain-verifier.js';
import { EXPORT_TRAILER_FORMAT, EXPORT_TRAILER_VERSION, type ExportTrailer } from './export-trailer.js';
import { describeVerification, verifyNdjsonFile } from './offline-verifier.js';

const COMPANY = '01900000-0000-7000-8000-0000000000bb';

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const record: AuditRecord = {
      id: `01900000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
      companyId: COMPANY,
      seq,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      action: 'company.updated',
      actionVersion: 1,
      actor: { type: 'system', id: 'system' },
      target: { type: 'Company', id: COMPANY },
      context: { requestId: `r${seq}`, ip: null, userAgent: null },
      metadata: { n: seq },
      prevHash,
      hash: '',
    };
    record.hash = expectedHash(record);
    prevHash = record.hash;
    out.push(record);
  }
  return out;
}

/** The trailer the server writes after `piece`, with the chain head at `head`. */
function trailerOf(
  piece: AuditRecord[],
  head: AuditRecord,
  window: Partial<ExportTrailer> = {},
): ExportTrailer {
  return {
    format: EXPORT_TRAILER_FORMAT,
    version: EXPORT_TRAILER_VERSION,
    companyId: COMPANY,
    exportedAt: '2026-02-01T00:00:00.000Z',
    from: null,
    to: null,
    firstSeq: piece[0]?.seq ?? null,
    lastSeq: piece.at(-1)?.seq ?? null,
    count: piece.length,
    lastHash: piece.at(-1)?.hash ?? null,
    headSeq: head.seq,
    headHash: head.hash,
    ...window,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tenantry-offline-'));
let files = 0;
/** Writes NDJSON lines (objects, or raw strings) to a new file and verifies it. */
async function verify(lines: unknown[]) {
  const file = join(dir, `export-${++files}.ndjson`);
  writeFileSync(file, lines.map((l) => `${typeof l === 'string' ? l : JSON.stringify(l)}\n`).join(''));
  return verifyNdjsonFile(file);
}

describe('offline verifier (NDJSON exports)', () => {
  const records = chain(12);
  const head = records[11];

  it('proves a whole export complete against its trailer', async () => {
    const result = await verify([...records, { trailer: trailerOf(records, head) }]);
    expect(result).toMatchObject({ valid: true, checked: 12, completeness: 'proven', lastSeq: 12 });
    expect(result.trailer).toMatchObject({ headSeq: 12, headHash: head.hash });
    const text = describeVerification(result).join('\n');
    expect(text).toContain('VALID: 12 event(s)');
    expect(text).toContain(
      `complete: the export's trailer covers exactly seq 1–12; chain head at export: seq 12`,
    );
  });

  it('finds events removed from the end when the trailer is still there', async () => {
    const result = await verify([...records.slice(0, 9), { trailer: trailerOf(records, head) }]);
    expect(result).toMatchObject({ valid: false, checked: 9, firstBrokenSeq: 10, firstBrokenPosition: 10 });
    expect(result.reason).toMatch(/seq 10–12 missing at the end: events were removed from the end/);
    expect(result.completeness).toBe('not-proven');
    expect(describeVerification(result).join('\n')).toContain('INVALID');
  });

  it('finds events removed from the start, a changed last event and lines after the trailer', async () => {
    const start = await verify([...records.slice(2), { trailer: trailerOf(records, head) }]);
    expect(start).toMatchObject({ valid: false, firstBrokenSeq: 1 });
    expect(start.reason).toMatch(/seq 1–2 missing at the start/);

    // The last event replaced by a different, self-consistent one: its own hash checks out, the trailer's does not.
    const forged = structuredClone(records);
    forged[11].metadata = { n: 'forged' };
    forged[11].hash = expectedHash(forged[11]);
    const last = await verify([...forged, { trailer: trailerOf(records, head) }]);
    expect(last).toMatchObject({ valid: false, firstBrokenSeq: 12 });
    expect(last.reason).toMatch(/trailer's lastHash/);

    // An event appended after the trailer (the next one of the chain, so the chain itself still links).
    const after = await verify([...records, { trailer: trailerOf(records, head) }, chain(13)[12]]);
    expect(after).toMatchObject({ valid: false });
    expect(after.reason).toMatch(/line 14: content after the export's trailer \(line 13\)/);
    const twice = await verify([
      ...records,
      { trailer: trailerOf(records, head) },
      { trailer: trailerOf(records, head) },
    ]);
    expect(twice).toMatchObject({ valid: false });
  });

  it('verifies an export of a window (from/to) that ends before the chain head', async () => {
    const piece = records.slice(3, 8);
    const window = { from: piece[0].occurredAt, to: piece[4].occurredAt };
    const result = await verify([...piece, { trailer: trailerOf(piece, head, window) }]);
    expect(result).toMatchObject({
      valid: true,
      checked: 5,
      firstSeq: 4,
      lastSeq: 8,
      completeness: 'proven',
    });
    expect(describeVerification(result).join('\n')).toContain(
      `seq 4–8, window ${window.from} to ${window.to}; chain head at export: seq 12`,
    );
    const cut = await verify([...piece.slice(0, 4), { trailer: trailerOf(piece, head, window) }]);
    expect(cut).toMatchObject({ valid: false, firstBrokenSeq: 8 });
  });

  it('accepts an empty export whose trailer says so, and refuses one that lost all its events', async () => {
    const empty = await verify([{ trailer: trailerOf([], head, { from: '2001-01-01T00:00:00Z' }) }]);
    expect(empty).toMatchObject({ valid: true, checked: 0, completeness: 'proven' });
    expect(describeVerification(empty)[0]).toMatch(/VALID \(no events\)/);
    const lost = await verify([{ trailer: trailerOf(records, head) }]);
    expect(lost).toMatchObject({ valid: false, checked: 0, firstBrokenSeq: 1 });
    expect(describeVerification(lost)[0]).toMatch(/INVALID/);
  });

  it('refuses a malformed or inconsistent trailer', async () => {
    for (const bad of [
      { ...trailerOf(records, head), format: 'other' },
      { ...trailerOf(records, head), count: 11 },
      { ...trailerOf(records, head), lastSeq: 13 },
      { ...trailerOf(records, head), headHash: 'nope' },
    ]) {
      const result = await verify([...records, { trailer: bad }]);
      expect(result.valid, JSON.stringify(bad)).toBe(false);
      expect(result.reason).toMatch(/line 13: .*trailer/);
    }
  });

  it('still verifies a file without a trailer, but cannot prove that nothing was cut from its end', async () => {
    const result = await verify(records.slice(0, 9));
    expect(result).toMatchObject({ valid: true, checked: 9, completeness: 'not-proven' });
    expect(result.trailer).toBeUndefined();
    expect(describeVerification(result).join('\n')).toMatch(
      /completeness NOT proven: the file has no export trailer/,
    );
  });
});
