import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { installRunQueue } from '../runs/run-queue.schema.js';
import { RETIRED_QUEUES, SCHEDULED_QUEUE_OPTIONS, SCHEDULED_TASKS } from '../scheduler/scheduled-queues.js';
import { MAIL_QUEUE, MAIL_QUEUE_OPTIONS, queueWaitingMail } from '../mail/mail-queue.schema.js';
import { APP_DB_ROLE, buildOrmConfig } from './orm.config.js';
import { appRoleFor, databaseOf } from './urls.js';

const { escapeIdentifier, escapeLiteral } = pg;

export interface MigrationReport {
  applied: string[];
}

/**
 * Applies pending migrations as the owner, then provisions the database's own login role (`appRole`, by default
 * `tenantry_app_<database>`): created when missing as a member of `tenantry_app` (the group role migration 0
 * creates and every migration grants), allowed to connect to this database, and given `appPassword` when one is
 * set. Only this database's role is touched, so migrating one database never changes the password another
 * instance on the same server connects with. Last, installs or upgrades the job queue's schema (pg-boss,
 * schema `pgboss`) and grants `tenantry_app` its use: the application starts pg-boss without migrating, so it
 * never needs CREATE.
 */
export async function runMigrations(
  ownerUrl: string,
  appPassword: string | undefined,
  log: (msg: string) => void,
  appRole: string = appRoleFor(ownerUrl),
): Promise<MigrationReport> {
  const orm = await MikroORM.init(buildOrmConfig({ url: ownerUrl, poolMax: 2 }));
  let applied: Awaited<ReturnType<typeof orm.migrator.up>>;
  try {
    applied = await orm.migrator.up();
    for (const m of applied) log(`migrated: ${m.name}`);
    await provisionAppRole(
      (sql, params) => orm.em.getConnection().execute(sql, params),
      databaseOf(ownerUrl),
      appRole,
      appPassword,
      log,
    );
  } finally {
    await orm.close(true);
  }
  await installRunQueue(
    ownerUrl,
    APP_DB_ROLE,
    log,
    [
      ...SCHEDULED_TASKS.map((name) => ({ name, options: SCHEDULED_QUEUE_OPTIONS })),
      { name: MAIL_QUEUE, options: MAIL_QUEUE_OPTIONS },
    ],
    RETIRED_QUEUES,
  );
  await queueWaitingMail(ownerUrl, log);
  return { applied: applied.map((m) => m.name) };
}

type Execute = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * Creates (when missing) the application's login role of one database and sets its password. A role the owner
 * may not create or alter (no CREATEROLE) is left to a database administrator, with a message saying what to run.
 */
export async function provisionAppRole(
  execute: Execute,
  database: string,
  appRole: string,
  appPassword: string | undefined,
  log: (msg: string) => void,
): Promise<void> {
  const role = escapeIdentifier(appRole);
  // DDL on roles takes no bind parameters: the password is escaped as a literal, names as identifiers.
  const password = appPassword ? ` password ${escapeLiteral(appPassword)}` : '';
  const steps: string[] = [];
  if (appRole !== APP_DB_ROLE) {
    const exists = (await execute('select 1 from pg_roles where rolname = ?', [appRole])) as unknown[];
    if (exists.length === 0) {
      steps.push(
        `create role ${role} login inherit nosuperuser nobypassrls nocreatedb nocreaterole${password}`,
      );
    } else if (appPassword) {
      steps.push(`alter role ${role} with login password ${escapeLiteral(appPassword)}`);
    }
    steps.push(`grant ${APP_DB_ROLE} to ${role}`);
    steps.push(`grant connect on database ${escapeIdentifier(database)} to ${role}`);
  } else if (appPassword) {
    steps.push(`alter role ${role} with login password ${escapeLiteral(appPassword)}`);
  }
  for (const sql of steps) {
    try {
      await execute(sql);
    } catch (e) {
      const shown = appPassword ? sql.replace(escapeLiteral(appPassword), "'…'") : sql;
      log(
        `could not provision the application role ${appRole} (${(e as Error).message}); ` +
          `as a database administrator run: ${shown}`,
      );
      return;
    }
  }
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
