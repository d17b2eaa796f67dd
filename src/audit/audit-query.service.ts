import { Injectable } from '@nestjs/common';
import { EntityManager, IsolationLevel, type FilterQuery } from '@mikro-orm/postgresql';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import { currentTenant } from '../tenancy/request-store.js';
import { tenantFiltered } from '../tenancy/scoped.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { AuditChainHead } from './audit-chain-head.entity.js';
import { AuditEvent } from './audit-event.entity.js';
import { toAuditRecord, type AuditEventFields, type AuditRecord } from './audit-record.js';
import { AuditService } from './audit.service.js';
import { GENESIS_HASH } from './canonical-json.js';
import { ChainVerifier } from './chain-verifier.js';
import type { AuditEventDto, AuditVerificationDto } from './dto/audit-event.dto.js';
import type { AuditExportQueryDto, AuditQueryDto, AuditTimeRangeDto } from './dto/audit-query.dto.js';
import { EXPORT_TRAILER_FORMAT, EXPORT_TRAILER_VERSION, type ExportTrailerLine } from './export-trailer.js';
import { AuditErrors } from './audit.errors.js';

/** Rows per query when walking a chain: bounded memory whatever its length. */
export const AUDIT_BATCH_SIZE = 2_000;

/** A contiguous piece of a chain, by seq (both ends inclusive). */
export interface SeqRange {
  first: number;
  last: number;
}

export interface TimeRange {
  from: Date | undefined;
  to: Date | undefined;
}

/** A company's chain head: the last seq and its hash (0 and the genesis hash before any event). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Parses `?from=&to=` (already ISO-validated by the DTO); `from` after `to` is a 400. */
export function timeRangeOf(query: AuditTimeRangeDto): TimeRange {
  const from = query.from !== undefined ? new Date(query.from) : undefined;
  const to = query.to !== undefined ? new Date(query.to) : undefined;
  if (from && Number.isNaN(from.getTime())) throw AuditErrors.InvalidTimestamp('from');
  if (to && Number.isNaN(to.getTime())) throw AuditErrors.InvalidTimestamp('to');
  if (from && to && from.getTime() > to.getTime()) throw AuditErrors.RangeReversed();
  return { from, to };
}

/**
 * Reads the company's audit trail: the filtered list, the verification of the whole chain, and contiguous
 * pieces of it for exports. Every query runs on a tenant-scoped EntityManager (the request's, or the one a
 * job opened with `TenancyService.run`), so both tenancy walls apply; nothing here takes a company id.
 */
@Injectable()
export class AuditQueryService {
  private readonly verifying = new Map<string, Promise<AuditVerificationDto>>();

  constructor(
    private readonly tenancy: TenancyService,
    private readonly audit: AuditService,
  ) {}

  /** `GET /v1/audit-events`: newest first, keyset on id, with the indexed filters. */
  async list(query: AuditQueryDto): Promise<Page<AuditEventDto>> {
    const { from, to } = timeRangeOf(query);
    const page = keysetFind(query);
    const where: FilterQuery<AuditEvent> = { ...page.where };
    if (query.action !== undefined) where.action = query.action;
    if (query.actorType !== undefined) where.actorType = query.actorType;
    if (query.actorId !== undefined) where.actorId = query.actorId;
    if (query.targetType !== undefined) where.targetType = query.targetType;
    if (query.targetId !== undefined) where.targetId = query.targetId;
    if (from || to) where.occurredAt = { ...(from ? { $gte: from } : {}), ...(to ? { $lte: to } : {}) };
    const rows = await this.tenancy
      .requestEm()
      .find(AuditEvent, where, { ...page.options, disableIdentityMap: true });
    return toPage(rows, page.limit, toAuditRecord);
  }

  /**
   * `GET /v1/audit-events/verify`: recomputes the whole chain in seq order, in batches, inside one
   * REPEATABLE READ snapshot so that the events and the chain head are read at the same instant (appends
   * running meanwhile are simply not part of the snapshot). A verification holds a pooled connection for its
   * duration (about 2–4 s per 100,000 events), so concurrent requests of one company share the one running
   * in this process instead of each holding a connection of their own.
   */
  verify(em: EntityManager = this.tenancy.requestEm()): Promise<AuditVerificationDto> {
    const companyId = currentTenant().companyId;
    const running = this.verifying.get(companyId);
    if (running) return running;
    const verification = this.verifyNow(em).finally(() => this.verifying.delete(companyId));
    this.verifying.set(companyId, verification);
    return verification;
  }

  private verifyNow(em: EntityManager): Promise<AuditVerificationDto> {
    return em.transactional(
      async (tx) => {
        const head = await tx.findOne(AuditChainHead, {}, { disableIdentityMap: true });
        const verifier = new ChainVerifier({ fromGenesis: true });
        for await (const batch of this.batches(tx, { first: 1, last: Number.MAX_SAFE_INTEGER })) {
          for (const record of batch) verifier.push(record);
        }
        const headSeq = head?.seq ?? 0;
        const headHash = head?.hash ?? GENESIS_HASH;
        const result = verifier.finish({ seq: headSeq, hash: headHash });
        return {
          valid: result.valid,
          checked: result.checked,
          headSeq,
          headHash,
          ...(result.firstBrokenSeq !== undefined
            ? { firstBrokenSeq: result.firstBrokenSeq, reason: result.reason }
            : {}),
        };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
  }

  /**
   * `GET /v1/audit-events/export`: fixes the piece of the chain to send (no further than the chain head read
   * first, so head and piece belong together), records that it was exported (an `audit.exported` event,
   * appended after the piece, so not part of it), and returns its batches followed by the export's trailer
   * line (export-trailer.ts): the piece's seqs and last hash and the chain head, so the offline verifier can
   * tell a complete file from one cut short. Errors (a bad range, the database) surface here, before the
   * response has started.
   */
  async startExport(
    query: AuditExportQueryDto,
  ): Promise<{ range: SeqRange | null; batches: AsyncIterable<(AuditRecord | ExportTrailerLine)[]> }> {
    const em = this.tenancy.requestEm();
    const companyId = currentTenant().companyId;
    const exportedAt = new Date();
    const head = await this.head(em);
    const range = await this.seqRange(em, timeRangeOf(query), head.seq);
    await this.audit.recordAlone({
      action: 'audit.exported',
      target: { type: 'Company', id: companyId },
      metadata: {
        format: 'ndjson',
        from: query.from ?? null,
        to: query.to ?? null,
        firstSeq: range?.first ?? null,
        lastSeq: range?.last ?? null,
        headSeq: head.seq,
        headHash: head.hash,
      },
    });
    const records = range ? this.batches(em, range) : emptyBatches();
    return {
      range,
      batches: withTrailer(records, (last, count) => ({
        trailer: {
          format: EXPORT_TRAILER_FORMAT,
          version: EXPORT_TRAILER_VERSION,
          companyId,
          exportedAt: exportedAt.toISOString(),
          from: query.from ?? null,
          to: query.to ?? null,
          firstSeq: range?.first ?? null,
          lastSeq: range?.last ?? null,
          count,
          lastHash: last?.hash ?? null,
          headSeq: head.seq,
          headHash: head.hash,
        },
      })),
    };
  }

  /** The company's chain head now. */
  async head(em: EntityManager): Promise<ChainHead> {
    const head = await em.findOne(AuditChainHead, {}, { disableIdentityMap: true });
    return { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH };
  }

  /**
   * The contiguous piece of the chain an export covers: from the first event that occurred at or after `from`
   * to the last that occurred at or before `to` (the whole chain without them), and no further than seq
   * `upTo` when given (the chain head the export read). An export is always a gap-free run of seqs, so it
   * verifies offline; it is fixed when the export starts, so events appended meanwhile are not part of it.
   * Null when no event falls in the range.
   */
  async seqRange(em: EntityManager, range: TimeRange, upTo?: number): Promise<SeqRange | null> {
    const options = { fields: ['seq'] as const, disableIdentityMap: true };
    const capped: FilterQuery<AuditEvent> = upTo === undefined ? {} : { seq: { $lte: upTo } };
    const first = range.from
      ? await em.findOne(
          AuditEvent,
          { ...capped, occurredAt: { $gte: range.from } },
          { ...options, orderBy: { occurredAt: 'asc', seq: 'asc' } },
        )
      : await em.findOne(AuditEvent, capped, { ...options, orderBy: { seq: 'asc' } });
    const last = range.to
      ? await em.findOne(
          AuditEvent,
          { ...capped, occurredAt: { $lte: range.to } },
          { ...options, orderBy: { occurredAt: 'desc', seq: 'desc' } },
        )
      : await em.findOne(AuditEvent, capped, { ...options, orderBy: { seq: 'desc' } });
    if (!first || !last || first.seq > last.seq) return null;
    return { first: first.seq, last: last.seq };
  }

  /**
   * The records of `range` in seq order, `batchSize` at a time (keyset on seq, one query per batch). Each
   * batch runs on `em`, which must be tenant-scoped; pass it explicitly so the caller's scope, not whatever
   * async context resumes the iteration, decides which company is read.
   *
   * Rows are read as plain objects (a select through the QueryBuilder, with the tenant filter applied
   * explicitly; row-level security applies as always) rather than hydrated into entities: building 100,000
   * entities costs about three times the query itself, and nothing here needs change tracking.
   */
  async *batches(
    em: EntityManager,
    range: SeqRange,
    batchSize: number = AUDIT_BATCH_SIZE,
  ): AsyncGenerator<AuditRecord[]> {
    let after = range.first - 1;
    while (after < range.last) {
      const qb = await tenantFiltered(
        em
          .createQueryBuilder(AuditEvent)
          .select('*')
          .where({ seq: { $gt: after, $lte: range.last } })
          .orderBy({ seq: 'asc' })
          .limit(batchSize),
      );
      const rows = await qb.execute<(Omit<AuditEventFields, 'seq'> & { seq: number | string })[]>(
        'all',
        true,
      );
      if (rows.length === 0) return;
      // bigint arrives as a string from a plain row.
      yield rows.map((row) => toAuditRecord({ ...row, seq: Number(row.seq) }));
      if (rows.length < batchSize) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }
}

async function* emptyBatches(): AsyncGenerator<AuditRecord[]> {}

/** `batches`, then one batch holding the trailer `make` builds from the last record sent and their count. */
async function* withTrailer(
  batches: AsyncIterable<AuditRecord[]>,
  make: (last: AuditRecord | undefined, count: number) => ExportTrailerLine,
): AsyncGenerator<(AuditRecord | ExportTrailerLine)[]> {
  let last: AuditRecord | undefined;
  let count = 0;
  for await (const batch of batches) {
    if (batch.length > 0) last = batch[batch.length - 1];
    count += batch.length;
    yield batch;
  }
  yield [make(last, count)];
}
