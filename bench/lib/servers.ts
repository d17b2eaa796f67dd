import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BENCH_APP_PASSWORD, sleep } from './common.js';

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every mainstream Linux). */
const CLOCK_TICKS = 100;

/** A server process under load: its URL, and its peak resident memory (VmHWM, resettable on Linux). */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Peak RSS in MiB since the start or the last `resetPeak()`. */
  peakRssMb(): number;
  resetPeak(): void;
  /** CPU time (user + system) the process has used so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` with `env` and waits until `readyPath` answers 200. Its stdout (Tenantry's JSON logs) is
 * discarded so logging costs what it costs in production without filling a disk; stderr is kept for failures.
 */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<ServerProcess> {
  // BENCH_STDOUT_DIR keeps each server's stdout (its logs, or a `--trace-gc` given in BENCH_NODE_FLAGS) there.
  const stdout = process.env.BENCH_STDOUT_DIR
    ? openSync(`${process.env.BENCH_STDOUT_DIR}/${name}-${Date.now()}.log`, 'w')
    : 'ignore';
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${stderr}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready on ${url}${readyPath}:\n${stderr}`);
    }
    await sleep(250);
  }
  const pid = child.pid!;
  return {
    name,
    url,
    pid,
    peakRssMb: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : Number.NaN;
    },
    resetPeak: () => {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        // not Linux, or not allowed: the peak then covers the whole life of the process
      }
    },
    cpuMs: () => {
      // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name): utime, stime in ticks.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Node's flags of `npm run start:prod` (package.json), so Tenantry runs here exactly as it is started there. */
export const PRODUCTION_NODE_FLAGS: string[] = (
  JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
).scripts['start:prod']
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));

/**
 * Tenantry as in production (`mainJs` of a build, NODE_ENV=production, the application role under row-level
 * security) on `port` against `ownerUrl`, verifying tokens signed with `jwtSecret`, rate limits out of the way;
 * `nodeFlags` go after the production ones, `env` over the rest.
 */
export function startTenantry(
  name: string,
  mainJs: string,
  options: {
    port: number;
    ownerUrl: string;
    jwtSecret: string;
    nodeFlags?: string[];
    env?: Record<string, string>;
  },
): Promise<ServerProcess> {
  return startServer(
    name,
    [...PRODUCTION_NODE_FLAGS, ...(options.nodeFlags ?? []), mainJs],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(options.port),
      DATABASE_URL: options.ownerUrl,
      DATABASE_APP_PASSWORD: BENCH_APP_PASSWORD,
      JWT_SECRET: options.jwtSecret,
      TENANTRY_MASTER_KEY: randomBytes(32).toString('base64'),
      RATE_LIMIT_PER_MINUTE: '1000000',
      PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
      DATA_DIR: '.data/bench',
      ...options.env,
    },
    options.port,
    '/health/ready',
  );
}
