import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { NestPinoLogger, createRootLogger, flushLogs } from './common/logger.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { assertAppRoleIsBound } from './database/app-role-check.js';
import { resolveDatabase } from './database/database-urls.js';
import { redactUrl } from './database/urls.js';
import { RunWorker, type RunWorkerSettings } from './runs/run-worker.js';

const USAGE = `Usage: npm run worker [-- --concurrency <n>] [--lease-ms <ms>] [--poll-ms <ms>]

Runs the background worker without HTTP: run jobs (at most <n> at once in this process),
mail delivery and the company purge. Needs DATABASE_URL (or DATABASE_APP_URL) of the API's database; it never
migrates (the API or \`npm run migrate\` does). Any number of workers may run at once. SIGTERM or SIGINT stop
it gracefully: runs in flight are handed back to the queue at their next step.`;

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError([`--${name} must be a positive integer`]);
  return n;
}

/** Worker timings from the command line (configuration otherwise comes from the environment, as for the API). */
function parseOverrides(argv: string[]): Partial<RunWorkerSettings> | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string' },
      'lease-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const overrides: Partial<RunWorkerSettings> = {};
  const concurrency = positive('concurrency', values.concurrency);
  const leaseMs = positive('lease-ms', values['lease-ms']);
  const pollIntervalMs = positive('poll-ms', values['poll-ms']);
  if (concurrency !== undefined) overrides.concurrency = concurrency;
  if (leaseMs !== undefined) overrides.leaseMs = leaseMs;
  if (pollIntervalMs !== undefined) overrides.pollIntervalMs = pollIntervalMs;
  return overrides;
}

async function main(): Promise<void> {
  let config: AppConfig;
  let overrides: Partial<RunWorkerSettings> | 'help';
  try {
    overrides = parseOverrides(process.argv.slice(2));
    if (overrides === 'help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`);
    process.exit(1);
  }
  if (!config.database.url && !config.database.appUrl) {
    process.stderr.write(
      'The worker needs DATABASE_URL (or DATABASE_APP_URL): the embedded database belongs to the API process, ' +
        'which runs the worker itself with WORKER_MODE=inline.\n',
    );
    process.exit(1);
  }
  const logger = createRootLogger(config.logLevel, config.logBufferBytes);
  const db = await resolveDatabase(config, (msg) => logger.info(msg));
  await assertAppRoleIsBound(db.appUrl);
  logger.info({ database: redactUrl(db.appUrl) }, 'worker connecting as the application role');

  // The worker process always works: the run worker and the other periodic tasks.
  const workerConfig: AppConfig = Object.freeze({ ...config, worker: { mode: 'inline' as const } });
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ config: workerConfig, databaseUrl: db.appUrl, logger }),
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  await app.init();
  const worker = app.get(RunWorker);
  worker.configure(overrides);
  logger.info({ instance: worker.instanceId, settings: worker.settings }, 'Tenantry worker running');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker shutting down');
    await app.close();
    await flushLogs(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(
    `Tenantry worker failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
