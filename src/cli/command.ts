import { MikroORM } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/config.js';
import { buildOrmConfig } from '../database/orm.config.js';
import { deriveAppUrl } from '../database/urls.js';
import { TenancyService } from '../tenancy/tenancy.service.js';

export interface CliContext {
  config: AppConfig;
  /** Owner URL (embedded database started when DATABASE_URL is unset). */
  ownerUrl: () => Promise<string>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** One `npm run cli -- <name> …` command. Returns the process exit code. */
export interface CliCommand {
  name: string;
  usage: string;
  description: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}

/**
 * Runs `use` connected as the application role (`tenantry_app`, under row-level security, a pool of `poolMax`),
 * with a `TenancyService` over that connection, as a command that works inside companies' contexts does; the
 * connection is closed afterwards.
 */
export async function withAppDatabase<T>(
  ctx: CliContext,
  poolMax: number,
  use: (tenancy: TenancyService, orm: MikroORM) => Promise<T>,
): Promise<T> {
  const appUrl = deriveAppUrl(
    await ctx.ownerUrl(),
    ctx.config.database.appUrl,
    ctx.config.database.appPassword,
  );
  const orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax }));
  try {
    return await use(new TenancyService(orm), orm);
  } finally {
    await orm.close(true);
  }
}
