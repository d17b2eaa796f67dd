import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditQueryService, SeqRange, TimeRange } from './audit-query.service.js';
import { exportBody, exportKey, type ExportTarget } from './export-target.js';

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The export job for one company: writes every event of the piece of its chain between `from` and `to` as
 * `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json` to `target`. `em` must be scoped to the company (the job
 * runs inside `TenancyService.run`); the piece is fixed at the start and read in batches. Idempotent: the same
 * event always lands on the same key with the same bytes, so a rerun or an overlapping range is harmless.
 */
export async function exportCompanyTrail(
  queries: AuditQueryService,
  em: EntityManager,
  range: TimeRange,
  target: ExportTarget,
  options: { concurrency?: number } = {},
): Promise<{ exported: number; range: SeqRange | null }> {
  const seqRange = await queries.seqRange(em, range);
  if (!seqRange) return { exported: 0, range: null };
  let exported = 0;
  for await (const batch of queries.batches(em, seqRange)) {
    await forEachLimited(batch, options.concurrency ?? 8, (record) =>
      target.put(exportKey(record), exportBody(record)),
    );
    exported += batch.length;
  }
  return { exported, range: seqRange };
}
