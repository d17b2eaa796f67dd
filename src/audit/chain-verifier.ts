import { canonicalJson, chainHash, GENESIS_HASH } from './canonical-json.js';
import { hashedPart, type AuditRecord } from './audit-record.js';

/*
 * The one implementation of "is this a valid piece of a company's hash chain". It is pure (records in, verdict
 * out) and imports nothing but canonical-json.ts and audit-record.ts, so the API (`GET /v1/audit-events/verify`,
 * which feeds it from the database in batches) and the offline verifier (`npm run cli -- audit verify`, which
 * feeds it an export) run exactly the same checks, and a customer can verify an export without the server.
 */

/** The outcome of walking a chain (or a contiguous piece of one). */
export interface ChainVerification {
  valid: boolean;
  /** Records examined (all of them: a break does not stop the walk). */
  checked: number;
  companyId: string | null;
  firstSeq: number | null;
  lastSeq: number | null;
  /**
   * `prevHash` of the first record: the genesis hash (64 zeros) for a chain that starts at seq 1, otherwise
   * the hash of the event before the piece, trusted as its anchor (compare it with a hash you hold).
   */
  anchorHash: string | null;
  /** `hash` of the last record: the head of the piece. */
  lastHash: string | null;
  /** The first seq at which anything fails (a bad hash, a broken link, a missing or repeated seq, …). */
  firstBrokenSeq?: number;
  /** 1-based position of the first failing record in the input (a line number for NDJSON). */
  firstBrokenPosition?: number;
  /** What failed first, for people. */
  reason?: string;
}

export interface ChainVerifierOptions {
  /** The input must be a whole chain: start at seq 1, linked to the genesis hash (the API). */
  fromGenesis?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/**
 * Checks that `value` has the shape of an `AuditRecord` (an export line comes from outside); returns the
 * problem, or null when it does. The hash check then decides whether its content is authentic.
 */
export function auditRecordShapeError(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object';
  const v = value;
  if (typeof v.id !== 'string') return 'id must be a string';
  if (typeof v.companyId !== 'string') return 'companyId must be a string';
  if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 1)
    return 'seq must be a positive integer';
  if (typeof v.occurredAt !== 'string') return 'occurredAt must be a string';
  if (typeof v.action !== 'string') return 'action must be a string';
  if (typeof v.actionVersion !== 'number' || !Number.isSafeInteger(v.actionVersion))
    return 'actionVersion must be an integer';
  if (!isObject(v.actor) || typeof v.actor.type !== 'string' || typeof v.actor.id !== 'string')
    return 'actor must be { type, id }';
  if (v.target !== null && (!isObject(v.target) || typeof v.target.type !== 'string'))
    return 'target must be null or { type, id }';
  if (
    !isObject(v.context) ||
    !isStringOrNull(v.context.requestId) ||
    !isStringOrNull(v.context.ip) ||
    !isStringOrNull(v.context.userAgent)
  )
    return 'context must be { requestId, ip, userAgent }';
  if (!isObject(v.metadata)) return 'metadata must be an object';
  if (typeof v.prevHash !== 'string' || !HEX64.test(v.prevHash))
    return 'prevHash must be 64 lower-case hex digits';
  if (typeof v.hash !== 'string' || !HEX64.test(v.hash)) return 'hash must be 64 lower-case hex digits';
  return null;
}

/** `hash = SHA-256(prevHash ‖ canonical JSON of the record without its hash)`: what the record's hash must be. */
export function expectedHash(record: AuditRecord): string {
  return chainHash(record.prevHash, canonicalJson(hashedPart(record)));
}

/**
 * Walks records in seq order, one `push` at a time (bounded memory: it keeps only the previous link), and
 * checks for each: the shape, one company, seq continuity (no gap, no repeat), the link to the previous
 * record's hash (the genesis hash at seq 1) and the record's own hash. The walk goes on after a break (so
 * `checked` counts everything), linking each record to the *stored* hash of its predecessor, so one edited
 * event is reported once, at its own seq.
 */
export class ChainVerifier {
  private checked = 0;
  private companyId: string | null = null;
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private anchorHash: string | null = null;
  private lastHash: string | null = null;
  private broken: { seq: number; position: number; reason: string } | undefined;

  constructor(private readonly options: ChainVerifierOptions = {}) {}

  /** The seq the next record must have (undefined before the first record of a partial piece). */
  get expectedSeq(): number | undefined {
    if (this.lastSeq !== null) return this.lastSeq + 1;
    return this.options.fromGenesis ? 1 : undefined;
  }

  /**
   * Checks the next record; returns false when it (or its link) fails. `position` labels it in the verdict
   * (a line number); by default its 1-based index.
   */
  push(value: unknown, position: number = this.checked + 1): boolean {
    this.checked += 1;
    const shapeError = auditRecordShapeError(value);
    if (shapeError) return this.fail(this.expectedSeq ?? 1, position, `record ${position}: ${shapeError}`);
    const record = value as AuditRecord;
    let ok = true;
    const expected = this.expectedSeq;

    if (this.companyId === null) this.companyId = record.companyId;
    else if (record.companyId !== this.companyId) {
      ok = this.fail(record.seq, position, `seq ${record.seq}: belongs to another company`);
    }

    if (expected !== undefined && record.seq !== expected) {
      const reason =
        record.seq > expected
          ? `seq ${expected}${record.seq - 1 > expected ? `–${record.seq - 1}` : ''} missing (next is ${record.seq})`
          : `seq ${record.seq} repeated or out of order (expected ${expected})`;
      ok = this.fail(Math.min(record.seq, expected), position, reason);
    }

    if (this.firstSeq === null) {
      this.firstSeq = record.seq;
      this.anchorHash = record.prevHash;
      if (record.seq === 1 && record.prevHash !== GENESIS_HASH) {
        ok = this.fail(1, position, 'seq 1: prevHash is not the genesis hash');
      }
    } else if (record.seq === expected && record.prevHash !== this.lastHash) {
      ok = this.fail(
        record.seq,
        position,
        `seq ${record.seq}: prevHash does not link to seq ${this.lastSeq}`,
      );
    }

    if (expectedHash(record) !== record.hash) {
      ok = this.fail(record.seq, position, `seq ${record.seq}: hash does not match its content`);
    }

    this.lastSeq = record.seq;
    this.lastHash = record.hash;
    return ok;
  }

  /** Counts an input that is not a record at all (a line that is not JSON) as a break at the expected seq. */
  reject(problem: string, position: number = this.checked + 1): false {
    this.checked += 1;
    return this.fail(this.expectedSeq ?? 1, position, `record ${position}: ${problem}`);
  }

  /**
   * The verdict. With `head` (the server's chain head), the walk must end exactly there: a head beyond the last
   * event means events were removed from the end; events beyond the head were added without it.
   */
  finish(head?: { seq: number; hash: string }): ChainVerification {
    if (head) {
      const lastSeq = this.lastSeq ?? 0;
      const lastHash = this.lastHash ?? GENESIS_HASH;
      const position = this.checked + 1;
      if (head.seq > lastSeq) {
        this.fail(
          lastSeq + 1,
          position,
          `the chain head is at seq ${head.seq} but the events end at ${lastSeq}`,
        );
      } else if (head.seq < lastSeq) {
        this.fail(head.seq + 1, position, `events after the chain head (seq ${head.seq})`);
      } else if (head.hash !== lastHash) {
        this.fail(Math.max(head.seq, 1), position, `the chain head's hash differs from seq ${head.seq}`);
      }
    }
    return {
      valid: this.broken === undefined,
      checked: this.checked,
      companyId: this.companyId,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      anchorHash: this.anchorHash,
      lastHash: this.lastHash,
      ...(this.broken
        ? {
            firstBrokenSeq: this.broken.seq,
            firstBrokenPosition: this.broken.position,
            reason: this.broken.reason,
          }
        : {}),
    };
  }

  /**
   * Records a failure found beside the records rather than in them (an export's trailer disagreeing with its
   * events), at `seq`; `position` labels where it was found.
   */
  breakAt(seq: number, position: number, reason: string): void {
    this.fail(seq, position, reason);
  }

  /** Records a failure at `seq`; the lowest seq wins ("the first seq where anything fails"). */
  private fail(seq: number, position: number, reason: string): false {
    if (this.broken === undefined || seq < this.broken.seq) this.broken = { seq, position, reason };
    return false;
  }
}

/** Verifies a whole list of records (tests, small exports). */
export function verifyChain(
  records: Iterable<unknown>,
  options: ChainVerifierOptions = {},
): ChainVerification {
  const verifier = new ChainVerifier(options);
  for (const record of records) verifier.push(record);
  return verifier.finish();
}
