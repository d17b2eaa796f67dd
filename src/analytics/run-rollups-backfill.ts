import { systemContext } from '../tenancy/request-store.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { ANALYTICS_STATEMENTS as SQL } from '../tenancy/statements/analytics.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';

export interface BackfillResult {
  companyId: string;
  removed: number;
  inserted: number;
}

/**
 * Rebuilds one company's run rollups from its runs (the backfill), inside that company's own context: deletes
 * them and inserts what the live hook would have written for every start, park, verdict and end, in one
 * transaction that holds the company's audit chain head (see `lockForRebuild`), so no transition commits halfway.
 * Connector rollups are not rebuilt: calls made before `run_steps.last_call_ms` existed were never timed.
 */
export function backfillRunRollups(tenancy: TenancyService, companyId: string): Promise<BackfillResult> {
  return tenancy.run(systemContext(companyId, 'analytics-backfill', 'owner'), (em) =>
    em.transactional(async (tx) => {
      await scoped(tx, SQL.lockForRebuild, []);
      const [removed] = await scoped<{ removed: number }>(tx, SQL.deleteRunRollups, []);
      const [inserted] = await scoped<{ inserted: number }>(tx, SQL.rebuildRunRollups, []);
      return { companyId, removed: removed?.removed ?? 0, inserted: inserted?.inserted ?? 0 };
    }),
  );
}
