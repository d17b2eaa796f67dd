import 'reflect-metadata';
import { createApp } from './app.js';
import { createRootLogger, flushLogs } from './common/logger.js';
import { describeStartupError } from './common/startup-error.js';
import { type AppConfig, ConfigError, loadConfig } from './config/config.js';
import { assertAppRoleIsBound } from './database/app-role-check.js';
import { type ResolvedDatabase, resolveDatabase } from './database/database-urls.js';
import { runMigrations } from './database/migrate.js';
import { redactUrl } from './database/urls.js';

/** How long a graceful shutdown may take before the process exits anyway (exit code 1). */
const SHUTDOWN_DEADLINE_MS = 30_000;

/** LOG_LEVEL=debug: a failed start prints the stack after its one line. */
let stackOnFailure = false;

/** Every start-up failure ends here: one line naming the cause and the fix, never `undefined` or a stack. */
function failStart(e: unknown): never {
  process.stderr.write(`Tenantry failed to start: ${describeStartupError(e)}\n`);
  if (stackOnFailure && e instanceof Error && e.stack) {
    process.stderr.write(`${e.stack}\n`);
  }
  process.exit(1);
}

/** What a developer needs after `npm start`, in a few human lines (the JSON log carries the details). */
function startSummary(config: AppConfig, db: ResolvedDatabase): string {
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const base = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.port}`;
  const database = db.embedded
    ? `embedded PostgreSQL on port ${db.embedded.port}, data in ${db.embedded.dataDir}`
    : redactUrl(db.ownerUrl);
  return [
    '',
    `  Tenantry is running (${config.env})`,
    `    API       ${base}`,
    `    Docs      ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `    Health    ${base}/health/live   ${base}/health/ready`,
    `    Database  ${database}`,
    `    Data      ${config.dataDir}   (mail outbox: ${config.mail.outboxDir})`,
    '    Stop      Ctrl+C',
    `    Next      curl -s ${base}/health/ready   then the README walkthrough: PORT=${config.port} scripts/walkthrough.sh`,
    '',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  stackOnFailure = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = createRootLogger(config.logLevel, config.logBufferBytes);
  const say = (msg: string) => logger.info(msg);

  // A library that fails by emitting an unhandled 'error' (a spawn EACCES, …) must not crash with a stack trace.
  const onStartCrash = (e: unknown) => failStart(e);
  process.on('uncaughtException', onStartCrash);
  process.on('unhandledRejection', onStartCrash);

  const db = await resolveDatabase(config, say);
  if (config.database.migrateOnStart) {
    await runMigrations(db.ownerUrl, config.database.appPassword, say, db.appRole);
  }
  await assertAppRoleIsBound(db.appUrl);
  logger.info({ database: redactUrl(db.appUrl) }, 'connecting as the application role');

  const app = await createApp({ config, databaseUrl: db.appUrl, logger });
  await app.listen({ port: config.port, host: config.host });
  process.off('uncaughtException', onStartCrash);
  process.off('unhandledRejection', onStartCrash);
  logger.info(`Tenantry listening on http://${config.host}:${config.port} (docs at /docs)`);
  if (!config.isProduction) {
    await flushLogs(logger);
    process.stderr.write(startSummary(config, db));
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    // A connection that never comes back (after a database outage) must not keep the process from exiting.
    const deadline = setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
      void flushLogs(logger).finally(() => process.exit(1));
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await app.close();
    await db.embedded?.stop();
    await flushLogs(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch(failStart);
