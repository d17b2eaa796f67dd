import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditQueryService, SeqRange } from './audit-query.service.js';
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
 * Writes one company's events of `piece` (a contiguous run of seqs) as
 * `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json` to `target`, read in batches. `em` must be scoped to the
 * company (the job runs inside `TenancyService.run`). Idempotent: the same event always lands on the same key
 * with the same bytes, so a rerun or an overlapping piece is harmless. See `AuditExporter` for the job itself.
 */
export async function exportCompanyTrail(
  queries: AuditQueryService,
  em: EntityManager,
  piece: SeqRange,
  target: ExportTarget,
  options: { concurrency?: number } = {},
): Promise<{ exported: number }> {
  let exported = 0;
  for await (const batch of queries.batches(em, piece)) {
    await forEachLimited(batch, options.concurrency ?? 8, (record) =>
      target.put(exportKey(record), exportBody(record)),
    );
    exported += batch.length;
  }
  return { exported };
}
