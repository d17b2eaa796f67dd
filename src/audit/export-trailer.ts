/*
 * The last line of an NDJSON export (`GET /v1/audit-events/export`): what the server meant to send. Pure (no
 * imports), like the chain verifier, so the offline verifier can check a file without the server.
 *
 * Why a trailer line and not response headers: headers are gone once the body is saved to a file, and the file
 * is what gets verified (often much later, by someone else). The line is an object with one member, `trailer`,
 * so it can never be mistaken for an event (events have `seq`, `hash`, …); a consumer reading events skips it.
 */

export const EXPORT_TRAILER_FORMAT = 'tenantry.audit-export';
export const EXPORT_TRAILER_VERSION = 1;

/** The export's range and the chain head when it started. */
export interface ExportTrailer {
  format: typeof EXPORT_TRAILER_FORMAT;
  version: number;
  companyId: string;
  /** When the export started (ISO 8601). */
  exportedAt: string;
  /** The requested window (occurredAt, inclusive), as given; null when open. */
  from: string | null;
  to: string | null;
  /** The seqs the export holds (both inclusive); null when nothing fell in the window. */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Events in the export: lastSeq − firstSeq + 1, or 0. */
  count: number;
  /** `hash` of the event at lastSeq; null when empty. */
  lastHash: string | null;
  /** The company's chain head when the export started: the export reaches it unless `to` stopped earlier. */
  headSeq: number;
  headHash: string;
}

export interface ExportTrailerLine {
  trailer: ExportTrailer;
}

const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const seqOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);

/** Whether a parsed line is meant as the trailer (checked by `trailerShapeError`), not as an event. */
export function isTrailerLine(value: unknown): value is { trailer: unknown } {
  return isObject(value) && Object.hasOwn(value, 'trailer') && !Object.hasOwn(value, 'seq');
}

/** The problem with a trailer's shape and internal consistency, or null when it is well-formed. */
export function trailerShapeError(value: unknown): string | null {
  if (!isObject(value)) return 'the trailer is not an object';
  const t = value;
  if (t.format !== EXPORT_TRAILER_FORMAT) return `the trailer's format is not ${EXPORT_TRAILER_FORMAT}`;
  if (t.version !== EXPORT_TRAILER_VERSION) return `unsupported trailer version ${String(t.version)}`;
  if (typeof t.companyId !== 'string') return 'the trailer has no companyId';
  if (typeof t.exportedAt !== 'string') return 'the trailer has no exportedAt';
  if (!(t.from === null || typeof t.from === 'string') || !(t.to === null || typeof t.to === 'string'))
    return "the trailer's from and to must be strings or null";
  if (!seqOrNull(t.firstSeq) || !seqOrNull(t.lastSeq))
    return "the trailer's firstSeq and lastSeq must be seqs or null";
  if (typeof t.count !== 'number' || !Number.isSafeInteger(t.count) || t.count < 0)
    return "the trailer's count must be a whole number";
  if (typeof t.headSeq !== 'number' || !Number.isSafeInteger(t.headSeq) || t.headSeq < 0)
    return "the trailer's headSeq must be a whole number";
  if (typeof t.headHash !== 'string' || !HEX64.test(t.headHash))
    return "the trailer's headHash must be 64 hex digits";
  const empty = t.firstSeq === null || t.lastSeq === null;
  if (empty) {
    if (t.firstSeq !== null || t.lastSeq !== null || t.count !== 0 || t.lastHash !== null)
      return 'the trailer describes an empty export inconsistently';
    return null;
  }
  const first = t.firstSeq as number;
  const last = t.lastSeq as number;
  if (last < first || t.count !== last - first + 1) return "the trailer's count does not match its seq range";
  if (last > t.headSeq) return "the trailer's range goes beyond its chain head";
  if (typeof t.lastHash !== 'string' || !HEX64.test(t.lastHash))
    return "the trailer's lastHash must be 64 hex digits";
  if (last === t.headSeq && t.lastHash !== t.headHash) return "the trailer's lastHash and headHash disagree";
  return null;
}
