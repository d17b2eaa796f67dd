import { backfillRunRollups } from '../../analytics/run-rollups-backfill.js';
import { isUuid } from '../../common/ids.js';
import { withAppDatabase, type CliCommand } from '../command.js';

const USAGE = 'analytics backfill [companyId]';

/**
 * `analytics backfill [companyId]`: rebuilds the run rollups of one company (or of every company, one at a time)
 * from its runs. Connects as `tenantry_app` and works inside each company's own context, like any job.
 */
export const analyticsCommand: CliCommand = {
  name: 'analytics',
  usage: USAGE,
  description: 'Rebuild the analytics run rollups from existing runs (one company, or all)',
  async run(args, ctx) {
    const [verb, only, ...rest] = args;
    if (verb !== 'backfill' || rest.length > 0) {
      ctx.err(`usage: npm run cli -- ${USAGE}`);
      return 2;
    }
    if (only !== undefined && !isUuid(only)) {
      ctx.err('companyId must be a company id (UUID)');
      return 2;
    }
    return withAppDatabase(ctx, 2, async (tenancy) => {
      const ids = await tenancy.companyIds(only);
      if (only && ids.length === 0) {
        ctx.err(`No company ${only}`);
        return 1;
      }
      let failed = 0;
      for (const id of ids) {
        try {
          const r = await backfillRunRollups(tenancy, id);
          ctx.out(`${id}: ${r.inserted} rollup row(s) (${r.removed} replaced)`);
        } catch (e) {
          failed += 1;
          ctx.err(`${id}: backfill failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      ctx.out(`Rebuilt the run rollups of ${ids.length - failed} company(ies).`);
      return failed > 0 ? 1 : 0;
    });
  },
};
