import { setAccountPlan } from '../../accounts/accounts.service.js';
import { AuditService } from '../../audit/audit.service.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUuid } from '../../common/ids.js';
import { withAppDatabase, type CliCommand } from '../command.js';

/**
 * `account plan <accountId> <plan>`: the only way to set an account's plan (there is no API for it). The plan
 * must be defined in the configuration (src/config/plans.ts, ACCOUNT_PLANS). Connects as `tenantry_app` and
 * writes `account.plan_changed` into each of the account's companies' trails in the change's transaction.
 */
export const accountCommand: CliCommand = {
  name: 'account',
  usage: 'account plan <accountId> <plan>',
  description: "Set an account's plan (plans: src/config/plans.ts, ACCOUNT_PLANS)",
  async run(args, ctx) {
    const [verb, accountId, plan] = args;
    if (verb !== 'plan' || !accountId || !plan || args.length !== 3) {
      ctx.err(`usage: npm run cli -- ${this.usage}\nplans: ${Object.keys(ctx.config.plans).join(', ')}`);
      return 2;
    }
    if (!isUuid(accountId)) {
      ctx.err('accountId must be an account id (UUID)');
      return 2;
    }
    if (!ctx.config.plans[plan]) {
      ctx.err(`Unknown plan "${plan}"; defined: ${Object.keys(ctx.config.plans).join(', ')}`);
      return 2;
    }
    try {
      return await withAppDatabase(ctx, 1, async (tenancy) => {
        const result = await setAccountPlan(
          tenancy,
          new AuditService(tenancy),
          ctx.config.plans,
          accountId,
          plan,
        );
        ctx.out(
          `Account ${accountId}: plan ${result.from} → ${result.to} (audited in ${result.companies} company trail(s)).`,
        );
        return 0;
      });
    } catch (e) {
      if (e instanceof AppError && e.status === 404) {
        ctx.err(`No account ${accountId}`);
        return 1;
      }
      throw e;
    }
  },
};
