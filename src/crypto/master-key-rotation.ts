import { LockMode } from '@mikro-orm/postgresql';
import type { AuditService } from '../audit/audit.service.js';
import { Company } from '../companies/company.entity.js';
import { systemContext, type TenantContext } from '../tenancy/request-store.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { CompanyKey } from './company-key.entity.js';
import { AAD, masterKeyId, open, seal } from './secret-box.js';

export interface RotationOptions {
  /** The master key the data keys are wrapped by now (the configured `TENANTRY_MASTER_KEY`). */
  from: Buffer;
  /** The new master key. */
  to: Buffer;
  /** Only these companies (default: every company). */
  companyIds?: readonly string[];
  /** Inspect only: count what would be re-wrapped. */
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface RotationReport {
  fromKeyId: string;
  toKeyId: string;
  rewrapped: number;
  /** Already wrapped by the new key (a resumed or repeated run). */
  alreadyDone: number;
  /** Companies without a data key (no secret was ever stored). */
  withoutKey: number;
  failed: { companyId: string; error: string }[];
}

const BATCH = 200;
const ACTOR = { type: 'system' as const, id: 'master-key-rotation' };

/** The context a per-company operator step runs in: the company's own, with a system principal. */
const rotationContext = (companyId: string): TenantContext => systemContext(companyId, ACTOR.id, 'owner');

/**
 * Re-wraps every company's data key from one master key to another. The data keys themselves (and so every
 * sealed secret) stay as they are: only their 32-byte wrapping changes.
 *
 * Each company is handled in its own transaction *inside that company's tenant context* (ORM filter and
 * row-level-security setting): there is no cross-tenant read even for this operator task, and under a
 * non-superuser owner the FORCE'd policies bind the connection too. The key row is locked while it is re-wrapped,
 * and every row records the id of the master key that wraps it, so the run is idempotent and resumable: rows
 * already under the new key are skipped, an interrupted run is simply started again.
 */
export async function rotateMasterKey(
  tenancy: TenancyService,
  audit: AuditService,
  options: RotationOptions,
): Promise<RotationReport> {
  const fromKeyId = masterKeyId(options.from);
  const toKeyId = masterKeyId(options.to);
  const log = options.log ?? (() => undefined);
  const report: RotationReport = {
    fromKeyId,
    toKeyId,
    rewrapped: 0,
    alreadyDone: 0,
    withoutKey: 0,
    failed: [],
  };

  for await (const companyId of companies(tenancy, options.companyIds)) {
    try {
      const outcome = await tenancy.run(rotationContext(companyId), (em) =>
        em.transactional(async (tx) => {
          const row = await tx.findOne(CompanyKey, { companyId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          if (!row) return 'none' as const;
          if (row.masterKeyId === toKeyId) return 'done' as const;
          if (row.masterKeyId !== fromKeyId) {
            throw new Error(
              `wrapped by master key ${row.masterKeyId}, which is neither the current (${fromKeyId}) nor the new one`,
            );
          }
          const dataKey = open(options.from, row.wrappedKey, AAD.dataKey(companyId));
          try {
            if (options.dryRun) return 'rewrapped' as const;
            row.wrappedKey = seal(options.to, dataKey, AAD.dataKey(companyId));
            row.masterKeyId = toKeyId;
            row.rotatedAt = new Date();
            await tx.flush();
            await audit.record(
              {
                action: 'company.key_rewrapped',
                target: { type: 'Company', id: companyId },
                metadata: { fromKeyId, toKeyId },
                actor: ACTOR,
              },
              tx,
            );
            return 'rewrapped' as const;
          } finally {
            dataKey.fill(0);
          }
        }),
      );
      if (outcome === 'none') report.withoutKey++;
      else if (outcome === 'done') report.alreadyDone++;
      else {
        report.rewrapped++;
        log(`${options.dryRun ? 'would re-wrap' : 're-wrapped'} the data key of company ${companyId}`);
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      report.failed.push({ companyId, error });
      log(`company ${companyId}: ${error}`);
    }
  }
  return report;
}

/** Company ids in id order, in batches (the registry is not tenant data; only ids are read). */
async function* companies(tenancy: TenancyService, only?: readonly string[]): AsyncGenerator<string> {
  if (only) {
    yield* only;
    return;
  }
  let after: string | undefined;
  for (;;) {
    const rows = await tenancy.unscoped(Unscoped.Directory, (em) =>
      em.find(Company, after ? { id: { $gt: after } } : {}, {
        fields: ['id'],
        orderBy: { id: 'asc' },
        limit: BATCH,
      }),
    );
    for (const row of rows) yield row.id;
    if (rows.length < BATCH) return;
    after = rows[rows.length - 1].id;
  }
}

/** How many companies' data keys each master key wraps (`master-key status`). */
export async function masterKeyUsage(
  tenancy: TenancyService,
  companyIds?: readonly string[],
): Promise<Map<string, number>> {
  const usage = new Map<string, number>();
  for await (const companyId of companies(tenancy, companyIds)) {
    const row = await tenancy.run(rotationContext(companyId), (em) =>
      em.findOne(CompanyKey, { companyId }, { fields: ['masterKeyId'] }),
    );
    if (row) usage.set(row.masterKeyId, (usage.get(row.masterKeyId) ?? 0) + 1);
  }
  return usage;
}
