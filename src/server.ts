import 'reflect-metadata';
import { createApp } from './app.js';
import { createRootLogger, flushLogs } from './common/logger.js';
import { ConfigError, loadConfig } from './config/config.js';
import { assertAppRoleIsBound } from './database/app-role-check.js';
import { resolveDatabase } from './database/database-urls.js';
import { runMigrations } from './database/migrate.js';
import { redactUrl } from './database/urls.js';

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
  const logger = createRootLogger(config.logLevel, config.logBufferBytes);
  const say = (msg: string) => logger.info(msg);

  const db = await resolveDatabase(config, say);
  if (config.database.migrateOnStart) {
    await runMigrations(db.ownerUrl, config.database.appPassword, say);
  }
  await assertAppRoleIsBound(db.appUrl);
  logger.info({ database: redactUrl(db.appUrl) }, 'connecting as the application role');

  const app = await createApp({ config, databaseUrl: db.appUrl, logger });
  await app.listen({ port: config.port, host: config.host });
  logger.info(`Tenantry listening on http://${config.host}:${config.port} (docs at /docs)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await db.embedded?.stop();
    await flushLogs(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(
    `Tenantry failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
