import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { installRunQueue } from '../runs/run-queue.schema.js';
import { SCHEDULED_QUEUE_OPTIONS, SCHEDULED_TASKS } from '../scheduler/scheduled-queues.js';
import { APP_DB_ROLE, buildOrmConfig } from './orm.config.js';

const { escapeLiteral } = pg;

export interface MigrationReport {
  applied: string[];
}

/**
 * Applies pending migrations as the owner, then (when it has the right) sets the password of `tenantry_app`,
 * the non-owner login role the application connects as. Migration 0 creates that role if it is missing.
 * Last, installs or upgrades the job queue's schema (pg-boss, schema `pgboss`) and grants the app role its use:
 * the application starts pg-boss without migrating, so it never needs CREATE.
 */
export async function runMigrations(
  ownerUrl: string,
  appPassword: string | undefined,
  log: (msg: string) => void,
): Promise<MigrationReport> {
  const orm = await MikroORM.init(buildOrmConfig({ url: ownerUrl, poolMax: 2 }));
  let applied: Awaited<ReturnType<typeof orm.migrator.up>>;
  try {
    applied = await orm.migrator.up();
    for (const m of applied) log(`migrated: ${m.name}`);
    if (appPassword) {
      try {
        // ALTER ROLE takes no bind parameters: the password is escaped as a literal.
        await orm.em
          .getConnection()
          .execute(`alter role ${APP_DB_ROLE} with login password ${escapeLiteral(appPassword)}`);
      } catch (e) {
        log(
          `could not set the password of ${APP_DB_ROLE} (${(e as Error).message}); set it as a database admin`,
        );
      }
    }
  } finally {
    await orm.close(true);
  }
  await installRunQueue(
    ownerUrl,
    APP_DB_ROLE,
    log,
    SCHEDULED_TASKS.map((name) => ({ name, options: SCHEDULED_QUEUE_OPTIONS })),
  );
  return { applied: applied.map((m) => m.name) };
}

export interface SchemaCheck {
  pending: string[];
  drift: string;
}

/**
 * Fails (returns problems) when migrations and entities disagree: pending migrations, or a live schema that
 * differs from what the entities describe after every migration ran.
 */
export async function checkMigrations(ownerUrl: string): Promise<SchemaCheck> {
  const orm = await MikroORM.init(buildOrmConfig({ url: ownerUrl, poolMax: 2 }));
  try {
    const pending = (await orm.migrator.getPending()).map((m) => m.name);
    const drift = (
      await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true })
    ).trim();
    return { pending, drift };
  } finally {
    await orm.close(true);
  }
}
