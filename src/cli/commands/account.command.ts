import { MikroORM } from '@mikro-orm/postgresql';
import { setAccountPlan } from '../../accounts/accounts.service.js';
import { AuditService } from '../../audit/audit.service.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUuid } from '../../common/ids.js';
import { buildOrmConfig } from '../../database/orm.config.js';
import { deriveAppUrl } from '../../database/urls.js';
import { TenancyService } from '../../tenancy/tenancy.service.js';
import type { CliCommand } from '../command.js';

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
    const appUrl = deriveAppUrl(
      await ctx.ownerUrl(),
      ctx.config.database.appUrl,
      ctx.config.database.appPassword,
    );
    const orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax: 1 }));
    try {
      const tenancy = new TenancyService(orm);
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
    } catch (e) {
      if (e instanceof AppError && e.status === 404) {
        ctx.err(`No account ${accountId}`);
        return 1;
      }
      throw e;
    } finally {
      await orm.close(true);
    }
  },
};
