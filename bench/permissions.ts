/**
 * Per-request cost of permission checks (`npm run bench:permissions`; issue 17): R2 (`GET /v1/runs/{id}`) by a
 * member holding 3 groups (effective permissions = role ∪ 3 groups: a union, an ability of its own, the groups
 * read through the access cache) against a member with none, side by side in one run, alternating
 * (none, groups, none, groups … `--rounds`), with the same load generator `npm run bench` uses (wrk, else
 * autocannon).
 *
 * Against the PostgreSQL server of DATABASE_URL it creates a scratch database, migrates it, starts Tenantry in a
 * child process (the application role, RLS on, the request path as in production minus the build: the TypeScript
 * is run through @swc-node like the other bench scripts), registers `--companies` companies, each with one
 * queued run and two members (one in 3 groups holding 2 permissions each), then loads R2 spread over the
 * companies. Prints req/s, p50 and p99 per variant (medians over rounds) and the ratio. Drops the database after
 * (`--keep` keeps it).
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newId } from '../src/common/ids.js';
import type { UserGroups } from '../src/authz/access-ports.js';
import { runMigrations } from '../src/database/migrate.js';
import { deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { TEST_ENV } from '../test/setup/test-env.js';
import { accessToken, say } from './lib/common.js';
import { loadGenerator, runLoad, type LoadResult, type Target } from './lib/load.js';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    companies: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
  },
});

const JWT_SECRET = process.env.BENCH_JWT_SECRET ?? randomBytes(48).toString('base64url');
const appPassword = TEST_ENV.DATABASE_APP_PASSWORD;

/** Child mode: the application on `args.serve` (the app role's URL), on a free port it reports to the parent. */
async function serve(appUrl: string): Promise<void> {
  const { pino } = await import('pino');
  const { createApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config/config.js');
  const env = { ...process.env, ...TEST_ENV, NODE_ENV: 'test', LOG_LEVEL: 'error', JWT_SECRET };
  const config = loadConfig(env, () => undefined);
  const app = await createApp({ config, databaseUrl: appUrl, logger: pino({ level: 'error' }) });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  process.send?.({ port: address.port });
}

async function startChild(appUrl: string): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', appUrl], {
    execArgv: ['--import', '@swc-node/register/esm-register'],
    env: { ...process.env, BENCH_JWT_SECRET: JWT_SECRET },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The guard's permission work alone, in process (no HTTP, no database): what a request adds once the access cache
 * has answered — `withGroups` (role ∪ groups) and `abilityFor(ctx).can(action, subject)` — for a member with no
 * group and one in 3 groups, alternating, `n` checks per round. Immune to the machine's load in a way the HTTP
 * numbers are not (the CPU time per check is what grows with groups, if anything).
 */
async function micro(n: number, rounds: number): Promise<void> {
  await import('../src/features.js');
  const { abilityFor, withGroups } = await import('../src/authz/abilities.js');
  const base = {
    companyId: newId(),
    principalId: newId(),
    principalType: 'user' as const,
    role: 'member' as const,
    userId: undefined,
    actingUserId: newId(),
    operatorId: undefined,
  };
  const none: UserGroups = { keys: [], permissions: [] };
  const three: UserGroups = {
    keys: ['bench-0', 'bench-1', 'bench-2'],
    permissions: [
      'audit:read',
      'boards:write',
      'connectors:write',
      'runs:cancel',
      'runs:verdict',
      'wiki:delete',
    ],
  };
  const time = (groups: UserGroups): number => {
    const start = performance.now();
    let allowed = 0;
    for (let i = 0; i < n; i++) if (abilityFor(withGroups(base, groups)).can('read', 'Run')) allowed++;
    if (allowed !== n) throw new Error('denied');
    return ((performance.now() - start) * 1e6) / n; // ns per check
  };
  time(none);
  time(three);
  const results = { none: [] as number[], three: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    results.none.push(time(none));
    results.three.push(time(three));
  }
  say(`| guard permission check, in process (${n} checks × ${rounds} rounds) | ns per check, median |`);
  say('| --- | ---: |');
  say(`| member, no group | ${median(results.none).toFixed(0)} |`);
  say(`| member in 3 groups | ${median(results.three).toFixed(0)} |`);
  say('');
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('Set DATABASE_URL to a PostgreSQL server (owner/superuser)');
  const database = `tenantry_bench_perm_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const ownerUrl = withDatabase(serverUrl, database);
  const appUrl = deriveAppUrl(ownerUrl, undefined, appPassword);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  let server: ChildProcess | undefined;
  try {
    await runMigrations(ownerUrl, appPassword, () => undefined);
    const started = await startChild(appUrl);
    server = started.child;
    const base = started.base;
    const http = async (method: string, path: string, token: string | null, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    const plain: Target[] = [];
    const grouped: Target[] = [];
    const companies = Number(args.companies);
    for (let c = 0; c < companies; c++) {
      const reg = await http('POST', '/v1/auth/register', null, {
        email: `bench-perm-${c}-${randomBytes(3).toString('hex')}@example.test`,
        password: 'bench-password-not-secret',
        name: 'Owner',
        companyName: `Perm bench ${c}`,
      });
      const companyId = (reg.company as { id: string }).id;
      const ownerToken = reg.accessToken as string;
      const members: string[] = [];
      for (let m = 0; m < 2; m++) {
        const userId = newId();
        await owner.query(
          'insert into users (id, email, name, password_hash, platform_admin) values ($1, $2, $3, $4, false)',
          [userId, `bench-perm-${c}-${m}-${randomBytes(3).toString('hex')}@example.test`, 'Member', 'x'],
        );
        await owner.query('insert into memberships (id, company_id, user_id, role) values ($1, $2, $3, $4)', [
          newId(),
          companyId,
          userId,
          'member',
        ]);
        members.push(userId);
      }
      const perms = [
        ['runs:verdict', 'runs:cancel'],
        ['connectors:write', 'audit:read'],
        ['boards:write', 'wiki:delete'],
      ];
      for (let g = 0; g < 3; g++) {
        const group = await http('POST', '/v1/groups', ownerToken, {
          key: `bench-${g}`,
          name: `Bench ${g}`,
          permissions: perms[g],
        });
        await http('PUT', `/v1/groups/${group.id as string}/members/${members[1]}`, ownerToken);
      }
      const draft = await http('POST', '/v1/drafts', ownerToken, {
        name: 'Bench process',
        description: 'One approval step',
        category: 'finance',
        inputSchema: { type: 'object', properties: {} },
        steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
      });
      const published = await http('POST', `/v1/drafts/${draft.id as string}/publish`, ownerToken);
      const run = await http('POST', '/v1/runs', ownerToken, {
        draftVersionId: published.publishedVersionId,
        input: {},
      });
      const path = `/v1/runs/${run.id as string}`;
      plain.push({
        method: 'GET',
        path,
        token: await accessToken(JWT_SECRET, { userId: members[0], companyId, role: 'member' }),
      });
      grouped.push({
        method: 'GET',
        path,
        token: await accessToken(JWT_SECRET, { userId: members[1], companyId, role: 'member' }),
      });
    }

    const load = {
      connections: Number(args.connections),
      durationSeconds: Number(args.duration),
      threads: 1,
    };
    const warm = { ...load, durationSeconds: Number(args.warmup) };
    say(`# Permission checks on R2 — ${new Date().toISOString()}`);
    await micro(200_000, 5);
    say(
      `node ${process.version}, ${cpus().length} CPU(s), load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ` +
        `${loadGenerator()}, ${companies} companies, ${load.connections} connections, ${load.durationSeconds} s × ` +
        `${args.rounds} rounds per variant, alternating`,
    );
    const results: Record<'none' | 'groups', LoadResult[]> = { none: [], groups: [] };
    await runLoad(base, plain, warm);
    await runLoad(base, grouped, warm);
    for (let r = 0; r < Number(args.rounds); r++) {
      for (const [name, targets] of [
        ['none', plain],
        ['groups', grouped],
      ] as const) {
        const res = await runLoad(base, targets, load);
        if (res.errors > 0) throw new Error(`${name}: ${res.errors} errors`);
        results[name].push(res);
        say(
          `round ${r + 1} ${name.padEnd(6)} ${res.rps.toFixed(0)} req/s p50 ${res.p50Ms} ms p99 ${res.p99Ms} ms`,
        );
      }
    }
    const row = (name: 'none' | 'groups') => ({
      rps: median(results[name].map((x) => x.rps)),
      p50: median(results[name].map((x) => x.p50Ms)),
      p99: median(results[name].map((x) => x.p99Ms)),
    });
    const none = row('none');
    const groups = row('groups');
    say('');
    say('| R2 by | req/s | p50 ms | p99 ms |');
    say('| --- | ---: | ---: | ---: |');
    say(`| member, no group | ${none.rps.toFixed(0)} | ${none.p50} | ${none.p99} |`);
    say(`| member in 3 groups | ${groups.rps.toFixed(0)} | ${groups.p50} | ${groups.p99} |`);
    say(`| ratio groups / none | ${(groups.rps / none.rps).toFixed(3)} | | |`);
  } finally {
    server?.kill('SIGTERM');
    await owner.end();
    if (!args.keep) {
      const drop = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await drop.connect();
      await drop.query(`drop database if exists ${database} with (force)`);
      await drop.end();
    }
  }
}

if (args.serve) {
  void serve(args.serve);
} else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
