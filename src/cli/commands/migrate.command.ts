import { checkMigrations, runMigrations } from '../../database/migrate.js';
import type { CliCommand } from '../command.js';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  usage: 'migrate',
  description: 'Apply pending migrations as the owner (DATABASE_URL) and set the tenantry_app password',
  async run(_args, ctx) {
    const report = await runMigrations(await ctx.ownerUrl(), ctx.config.database.appPassword, (line) =>
      ctx.out(line),
    );
    ctx.out(
      report.applied.length === 0 ? 'Nothing to migrate.' : `Applied ${report.applied.length} migration(s).`,
    );
    return 0;
  },
};

export const migrateCheckCommand: CliCommand = {
  name: 'migrate:check',
  usage: 'migrate:check',
  description: 'Fail when migrations are pending or the migrated schema differs from the entities',
  async run(_args, ctx) {
    const check = await checkMigrations(await ctx.ownerUrl());
    if (check.pending.length > 0) {
      ctx.err(`Pending migrations: ${check.pending.join(', ')} (run npm run migrate)`);
      return 1;
    }
    if (check.drift) {
      ctx.err(
        'The entities and the migrated schema disagree; generate a migration (npm run migration:create):',
      );
      ctx.err(check.drift);
      return 1;
    }
    ctx.out('Migrations and entities agree.');
    return 0;
  },
};
