import { checkMigrations, runMigrations } from '../../database/migrate.js';
import { appRoleFor } from '../../database/urls.js';
import type { CliCommand } from '../command.js';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  usage: 'migrate',
  description:
    "Apply pending migrations as the owner (DATABASE_URL) and provision this database's application role (tenantry_app_<database>) with DATABASE_APP_PASSWORD",
  async run(_args, ctx) {
    const ownerUrl = await ctx.ownerUrl();
    const appRole = appRoleFor(ownerUrl, ctx.config.database.appUrl);
    const report = await runMigrations(
      ownerUrl,
      ctx.config.database.appPassword,
      (line) => ctx.out(line),
      appRole,
    );
    ctx.out(`Application role of this database: ${appRole}.`);
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
