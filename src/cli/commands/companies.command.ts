import { MikroORM } from '@mikro-orm/postgresql';
import { purgeDueCompanies } from '../../companies/company-purge.service.js';
import { buildOrmConfig } from '../../database/orm.config.js';
import type { CliCommand } from '../command.js';

/** Runs the company purge once (the API process runs it periodically when WORKER_MODE=inline). */
export const companiesCommand: CliCommand = {
  name: 'companies',
  usage: 'companies purge',
  description: 'Delete every company whose deletion grace window has ended, with all its data',
  async run(args, ctx) {
    if (args[0] !== 'purge' || args.length !== 1) {
      ctx.err(`usage: npm run cli -- ${this.usage}`);
      return 2;
    }
    const orm = await MikroORM.init(buildOrmConfig({ url: await ctx.ownerUrl(), poolMax: 1 }));
    try {
      const purged = await purgeDueCompanies(orm.em.fork(), new Date());
      for (const id of purged) ctx.out(`purged company ${id}`);
      ctx.out(
        purged.length === 0 ? 'No company is due for purging.' : `Purged ${purged.length} company(ies).`,
      );
      return 0;
    } finally {
      await orm.close(true);
    }
  },
};
