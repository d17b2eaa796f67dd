import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChainVerifier, type ChainVerification } from './chain-verifier.js';
import { isTrailerLine, trailerShapeError, type ExportTrailer } from './export-trailer.js';

/*
 * Verifies exports without the server: nothing here touches a database or the application's code beyond
 * the pure chain verifier (canonical JSON + SHA-256), so a customer can run it on a file they received.
 */

export interface ExportVerification extends ChainVerification {
  /** The file (NDJSON) or the company's folder (partitioned layout) that was checked. */
  source: string;
  /** What `firstBrokenPosition` counts: lines of an NDJSON file, records (in seq order) of a folder. */
  unit: 'line' | 'record';
  /**
   * `proven`: the file ends with the export's trailer and holds exactly the seqs it states, so nothing was cut
   * from its start or end. `not-proven`: no trailer (an export from before trailers, a folder, or a file cut
   * short together with its trailer): the records verify as a chain, but events removed from the end of the
   * piece would go unnoticed.
   */
  completeness: 'proven' | 'not-proven';
  /** The NDJSON export's trailer, when it has a well-formed one. */
  trailer?: ExportTrailer;
}

/** Where the events of a file disagree with its trailer: the seq to report and why; null when they agree. */
function trailerMismatch(
  t: ExportTrailer,
  events: ChainVerification,
): { seq: number; reason: string } | null {
  const head = `chain head at export: seq ${t.headSeq}`;
  if (events.companyId !== null && events.companyId !== t.companyId) {
    return { seq: events.firstSeq ?? 1, reason: 'the trailer belongs to another company than the events' };
  }
  if (t.firstSeq === null || t.lastSeq === null) {
    return events.checked > 0
      ? {
          seq: events.firstSeq ?? 1,
          reason: 'the trailer says the export is empty, but the file holds events',
        }
      : null;
  }
  if (events.firstSeq === null || events.lastSeq === null) {
    return {
      seq: t.firstSeq,
      reason: `seq ${t.firstSeq}–${t.lastSeq} missing: the file holds no events, the trailer says it holds these (${head})`,
    };
  }
  if (events.firstSeq > t.firstSeq) {
    return {
      seq: t.firstSeq,
      reason: `seq ${t.firstSeq}–${events.firstSeq - 1} missing at the start: events were removed from the start (the trailer says the export starts at seq ${t.firstSeq})`,
    };
  }
  if (events.firstSeq < t.firstSeq) {
    return { seq: events.firstSeq, reason: `events before the trailer's first seq ${t.firstSeq}` };
  }
  if (events.lastSeq < t.lastSeq) {
    return {
      seq: events.lastSeq + 1,
      reason: `seq ${events.lastSeq + 1}–${t.lastSeq} missing at the end: events were removed from the end (the trailer says the export ends at seq ${t.lastSeq}; ${head})`,
    };
  }
  if (events.lastSeq > t.lastSeq) {
    return { seq: t.lastSeq + 1, reason: `events after the trailer's last seq ${t.lastSeq}` };
  }
  if (events.lastHash !== t.lastHash) {
    return { seq: t.lastSeq, reason: `seq ${t.lastSeq}: its hash is not the trailer's lastHash` };
  }
  return null;
}

/**
 * An NDJSON export (one record per line, in seq order, as `GET /v1/audit-events/export` streams it), ending
 * with the export's trailer (see export-trailer.ts). A piece starting after seq 1 is fine: its first `prevHash`
 * is trusted and reported as the anchor. With the trailer, the events must be exactly the seqs it states (so a
 * file cut short is INVALID) and nothing may follow it; without one (older exports) the chain is still
 * verified, but completeness is reported as not proven. Read line by line: memory does not grow with the file.
 */
export async function verifyNdjsonFile(path: string): Promise<ExportVerification> {
  const verifier = new ChainVerifier();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  let trailer: { value: unknown; line: number } | undefined;
  let afterTrailer: number | undefined;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      verifier.reject('not valid JSON', line);
      continue;
    }
    if (trailer) afterTrailer ??= line;
    if (isTrailerLine(value)) {
      trailer ??= { value: value.trailer, line };
      continue;
    }
    verifier.push(value, line);
  }

  let events = verifier.finish();
  let valid: ExportTrailer | undefined;
  if (trailer) {
    const shape = trailerShapeError(trailer.value);
    const problem = shape
      ? { seq: (events.lastSeq ?? 0) + 1, reason: `line ${trailer.line}: ${shape}` }
      : afterTrailer !== undefined
        ? {
            seq: (events.lastSeq ?? 0) + 1,
            reason: `line ${afterTrailer}: content after the export's trailer (line ${trailer.line}), which must be the last line`,
          }
        : trailerMismatch(trailer.value as ExportTrailer, events);
    if (problem) {
      verifier.breakAt(problem.seq, afterTrailer ?? trailer.line, problem.reason);
      events = verifier.finish();
    }
    if (!shape) valid = trailer.value as ExportTrailer;
  }
  return {
    source: path,
    unit: 'line',
    ...events,
    completeness: valid && events.valid ? 'proven' : 'not-proven',
    ...(valid ? { trailer: valid } : {}),
  };
}

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsonFilesUnder(path)));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(path);
  }
  return out;
}

/**
 * A partitioned export (`audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json`, as the export job writes it):
 * every record under `dir`, grouped by company and put in seq order, each company verified as one piece.
 * Holds the records of the folder in memory.
 */
export async function verifyExportDirectory(dir: string): Promise<ExportVerification[]> {
  const byCompany = new Map<string, { seq: number; value: unknown; file: string }[]>();
  const unreadable: ExportVerification[] = [];
  for (const file of (await jsonFilesUnder(dir)).sort()) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      const verifier = new ChainVerifier();
      verifier.reject('not valid JSON');
      unreadable.push({ source: file, unit: 'record', ...verifier.finish(), completeness: 'not-proven' });
      continue;
    }
    const record = value as { companyId?: unknown; seq?: unknown };
    const company = typeof record.companyId === 'string' ? record.companyId : '(no companyId)';
    const list = byCompany.get(company) ?? [];
    list.push({ seq: typeof record.seq === 'number' ? record.seq : 0, value, file });
    byCompany.set(company, list);
  }
  const results: ExportVerification[] = [...unreadable];
  for (const [company, records] of [...byCompany.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.sort((a, b) => a.seq - b.seq);
    const verifier = new ChainVerifier();
    records.forEach((r, i) => verifier.push(r.value, i + 1));
    const result = verifier.finish();
    const broken = result.firstBrokenPosition ? records[result.firstBrokenPosition - 1]?.file : undefined;
    results.push({
      source: `${dir} (company ${company}${broken ? `; first broken file ${broken}` : ''})`,
      unit: 'record',
      ...result,
      completeness: 'not-proven',
    });
  }
  return results;
}

/** An NDJSON file or a folder of a partitioned export. */
export async function verifyExport(path: string): Promise<ExportVerification[]> {
  return (await stat(path)).isDirectory() ? verifyExportDirectory(path) : [await verifyNdjsonFile(path)];
}

/** Human summary lines of one verification. */
export function describeVerification(v: ExportVerification): string[] {
  const lines: string[] = [];
  if (v.checked === 0 && v.valid) {
    lines.push(`${v.source}: VALID (no events)`);
  } else {
    const head = `${v.valid ? 'VALID' : 'INVALID'}: ${v.checked} event(s) of company ${v.companyId ?? v.trailer?.companyId ?? '?'}, seq ${v.firstSeq ?? '?'}–${v.lastSeq ?? '?'}`;
    lines.push(`${v.source}: ${head}`);
    if (!v.valid) {
      lines.push(`  first broken seq: ${v.firstBrokenSeq} (${v.unit} ${v.firstBrokenPosition}): ${v.reason}`);
    }
    if (v.firstSeq !== null) {
      lines.push(
        `  anchor (prevHash of seq ${v.firstSeq}): ${v.anchorHash}${v.firstSeq === 1 ? ' (genesis)' : ' (trusted: compare it with a hash you hold)'}`,
      );
      lines.push(`  last hash (seq ${v.lastSeq}): ${v.lastHash}`);
    }
  }
  const t = v.trailer;
  if (v.completeness === 'proven' && t) {
    const window = t.from || t.to ? `, window ${t.from ?? '…'} to ${t.to ?? '…'}` : '';
    lines.push(
      `  complete: the export's trailer covers exactly ${t.count === 0 ? 'no events' : `seq ${t.firstSeq}–${t.lastSeq}`}${window}; chain head at export: seq ${t.headSeq}, hash ${t.headHash}`,
    );
  } else if (v.valid) {
    lines.push(
      v.unit === 'line'
        ? '  completeness NOT proven: the file has no export trailer (an export from before trailers, or one cut short together with its trailer), so events removed from its end would go unnoticed'
        : '  completeness not proven: a folder carries no trailer; compare the last hash with a head hash you hold (GET /v1/audit-events/verify, or the audit.exported event of the export)',
    );
  }
  return lines;
}
