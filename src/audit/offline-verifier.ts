import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChainVerifier, type ChainVerification } from './chain-verifier.js';

/*
 * Verifies exports without the server: nothing here touches a database or the application's code beyond
 * the pure chain verifier (canonical JSON + SHA-256), so a customer can run it on a file they received.
 */

export interface ExportVerification extends ChainVerification {
  /** The file (NDJSON) or the company's folder (partitioned layout) that was checked. */
  source: string;
  /** What `firstBrokenPosition` counts: lines of an NDJSON file, records (in seq order) of a folder. */
  unit: 'line' | 'record';
}

/**
 * An NDJSON export (one record per line, in seq order, as `GET /v1/audit-events/export` streams it).
 * A piece starting after seq 1 is fine: its first `prevHash` is trusted and reported as the anchor.
 * Read line by line: memory does not grow with the file.
 */
export async function verifyNdjsonFile(path: string): Promise<ExportVerification> {
  const verifier = new ChainVerifier();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
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
    verifier.push(value, line);
  }
  return { source: path, unit: 'line', ...verifier.finish() };
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
      unreadable.push({ source: file, unit: 'record', ...verifier.finish() });
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
  if (v.checked === 0) return [`${v.source}: VALID (no events)`];
  const head = `${v.valid ? 'VALID' : 'INVALID'}: ${v.checked} event(s) of company ${v.companyId ?? '?'}, seq ${v.firstSeq ?? '?'}–${v.lastSeq ?? '?'}`;
  const lines = [`${v.source}: ${head}`];
  if (!v.valid) {
    lines.push(`  first broken seq: ${v.firstBrokenSeq} (${v.unit} ${v.firstBrokenPosition}): ${v.reason}`);
  }
  lines.push(
    `  anchor (prevHash of seq ${v.firstSeq}): ${v.anchorHash}${v.firstSeq === 1 ? ' (genesis)' : ' (trusted: compare it with a hash you hold)'}`,
  );
  lines.push(`  last hash (seq ${v.lastSeq}): ${v.lastHash}`);
  return lines;
}
