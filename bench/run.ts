/**
 * `npm run bench`: Tenantry against a bare baseline on the same data, side by side (docs/benchmarks.md, "Full
 * stack against a bare baseline"). Run `npm run bench:seed` first.
 *
 * Starts Tenantry as it runs in production (`npm run build`, then `node dist/src/main.js` with
 * NODE_ENV=production: the application role under row-level security, JSON request logs, the inline worker) and
 * the baseline (`bench/baseline/server.ts`), both single processes with a pool of 10 connections, on the database
 * of DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/tenantry_bench`). Then, for each scenario, loads
 * them in turn — Tenantry, baseline, Tenantry, baseline … (`--rounds`) — with wrk (or autocannon when wrk is not
 * installed), `--connections` at once for `--duration` seconds after a `--warmup`, and prints req/s, p50 and p99
 * (medians over the rounds), the ratio Tenantry / baseline and Tenantry's peak RSS.
 *
 * Scenarios (requests spread over 100 companies, each request with a token of its company):
 *   LIVE  GET /health/live                       framework floor, no database
 *   R2    GET /v1/runs/{id}                       one run with its steps and verdicts
 *   R1    GET /v1/runs?limit=20                   the newest 20 runs
 *   R1c   GET /v1/runs?limit=20&cursor=…          20 runs older than a random one of the company's runs
 *   W1    POST /v1/connectors                     insert a connector + append its audit event, one transaction
 *   MIX   90 % R1/R2, 10 % W1
 *   MOVE     POST /v1/cards/{id}/move, If-Match: each card moved by one connection at a time with its last ETag
 *            (the runner's conditional targets, `Target.etag`; the baseline: the same update + audit append)
 *   LIST500  GET /v1/boards/{id}/cards?columnId=…: a column of 500 cards
 *   ANALYTICS  GET /v1/analytics/runs, 90 days daily (UTC, Europe/Berlin): the 100,000-run tenant `bench-big`
 *            against the 1,000-run `bench-00001`, both on Tenantry (the rollups: `npm run bench:analytics` builds them)
 * then the cost of the row-level-security wall on R2 (Tenantry with the policies of runs, run_steps and
 * run_verdicts enabled, then disabled by the owner for the measurement and restored: the ORM-side filter alone).
 *
 * `--scaling`: R1 and R2 on a 1,000-run tenant against the 100,000-run tenant `bench-big` (`ROWS`), and on the
 * databases `<name>_t1k` (1,000 companies) against `<name>_t10k` (10,000 companies) (`TENANTS`; seeded by
 * `npm run bench:seed -- --scaling`). `--only ROWS,TENANTS --scaling` runs just those.
 * `--explain`: the plans (EXPLAIN ANALYZE, BUFFERS, through auto_explain) of the two read functions as the
 * application role, for a small and the big tenant.
 * `--against <checkout>`: instead of the baseline, Tenantry built in another checkout (its `dist/`, built there with
 * `npm run build`) on the same database: a before/after comparison of a change, side by side. With
 * `--against-database <name>` that side runs on its own database of the same server instead (a copy of the same
 * seeded data, `createdb -T`, migrated by that checkout), for a checkout whose schema differs.
 * `--profile <dir>`: Tenantry writes a CPU profile (`--cpu-prof`) of the whole run into `<dir>` when it stops.
 * Other options: `--only R2,W1`, `--rounds 3`, `--duration 10`, `--warmup 3`, `--connections 32`,
 * `--threads 1`, `--no-build`, `--no-rls`.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Role } from '../src/authz/roles.js';
import { encodeCursor } from '../src/common/pagination.js';
import { runMigrations } from '../src/database/migrate.js';
import { withDatabase } from '../src/database/urls.js';
import { accessToken, BENCH_APP_PASSWORD, BENCH_DATABASE_URL, say } from './lib/common.js';
import { loadGenerator, type Target } from './lib/load.js';
import { generateNKeysBetween } from 'fractional-indexing';
import { newId } from '../src/common/ids.js';
import { LOAD_ARGS, measure as measureLoad, loadSettings, summarise, type Measured } from './lib/measure.js';
import {
  PRODUCTION_NODE_FLAGS,
  startServer,
  startTenantry as startProductionTenantry,
  type ServerProcess,
} from './lib/servers.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    ...LOAD_ARGS,
    build: { type: 'boolean', default: true },
    rls: { type: 'boolean', default: true },
    scaling: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    profile: { type: 'string' },
    against: { type: 'string' },
    'against-database': { type: 'string' },
  },
  allowNegative: true,
});
const { rounds: ROUNDS, load: LOAD, warmup: WARMUP } = loadSettings(args);
const JWT_SECRET = randomBytes(48).toString('base64url');
const RLS_TABLES = ['runs', 'run_steps', 'run_verdicts'];
/** Tenantry's port (the baseline's is the next): BENCH_PORT moves both when another run uses 3101 / 3102. */
const TENANTRY_PORT = Number(process.env.BENCH_PORT ?? 3101);

// ---------------------------------------------------------------------------------------------------------------
// Data and scenarios

interface Company {
  id: string;
  memberId: string;
  adminId: string;
  runIds: string[];
}

/** Companies chosen by `where` (on `companies c`), with a member, an admin and `runs` random run ids each. */
async function companies(db: pg.Pool, where: string, runs: number): Promise<Company[]> {
  const { rows } = await db.query<Company>(
    `select c.id,
       (select user_id from memberships m where m.company_id = c.id and m.role = 'member' limit 1) as "memberId",
       (select user_id from memberships m where m.company_id = c.id and m.role = 'admin' limit 1) as "adminId",
       array(select r.id from runs r where r.company_id = c.id order by random() limit $1) as "runIds"
     from companies c where ${where}`,
    [runs],
  );
  if (rows.length === 0 || rows.some((c) => c.runIds.length === 0)) {
    throw new Error(`no seeded companies with runs (${where}): run npm run bench:seed first`);
  }
  return rows;
}

type Kind = 'LIVE' | 'R2' | 'R1' | 'R1c' | 'W1';

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/** The requests of one kind for one company, with fresh tokens (valid 15 minutes, like Tenantry's own). */
async function targetsOf(kind: Kind, company: Company, count: number): Promise<Target[]> {
  const token = (userId: string, role: Role) =>
    accessToken(JWT_SECRET, { userId, companyId: company.id, role });
  if (kind === 'LIVE') return [{ method: 'GET', path: '/health/live' }];
  if (kind === 'W1') {
    return [
      {
        method: 'POST',
        path: '/v1/connectors',
        token: await token(company.adminId, 'admin'),
        body: JSON.stringify({
          toolId: 'bench.w{n}',
          endpointUrl: 'https://tools.example.com/hooks/bench',
          authScheme: 'none',
        }),
      },
    ];
  }
  const member = await token(company.memberId, 'member');
  return Array.from({ length: count }, () => {
    const run = pick(company.runIds);
    const path =
      kind === 'R2'
        ? `/v1/runs/${run}`
        : kind === 'R1'
          ? '/v1/runs?limit=20'
          : `/v1/runs?limit=20&cursor=${encodeCursor(run)}`;
    return { method: 'GET', path, token: member };
  });
}

/** A scenario's requests over `of` companies: kinds with their weights (out of 10). */
async function targets(of: Company[], mix: [Kind, number][]): Promise<Target[]> {
  const all: Target[] = [];
  for (const company of of) {
    for (const [kind, weight] of mix) {
      const some = await targetsOf(kind, company, 10);
      for (let i = 0; i < weight; i++) all.push(some[i % some.length]);
    }
  }
  return all;
}

interface Scenario {
  key: string;
  title: string;
  mix: [Kind, number][];
}

const SCENARIOS: Scenario[] = [
  { key: 'LIVE', title: 'GET /health/live (no database)', mix: [['LIVE', 1]] },
  { key: 'R2', title: 'R2 get one run by id', mix: [['R2', 1]] },
  { key: 'R1', title: 'R1 list the newest 20 runs', mix: [['R1', 1]] },
  { key: 'R1c', title: 'R1c list 20 runs after a cursor', mix: [['R1c', 1]] },
  { key: 'W1', title: 'W1 create a connector + audit event', mix: [['W1', 1]] },
  {
    key: 'MIX',
    title: 'MIX 90 % reads (R2, R1) / 10 % W1',
    mix: [
      ['R2', 5],
      ['R1', 4],
      ['W1', 1],
    ],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Workspace and analytics data (issue 15 and 16 scenarios)

/**
 * Boards for the card scenarios, written as the owner (replacing the previous run's): in each of `movers`
 * companies a board with two columns and two cards (the MOVE targets: each moved to the top of the second column,
 * If-Match its version), and in `listCompany` a board whose first column holds 500 cards (LIST500).
 */
async function seedBoards(
  dbs: pg.Pool[],
  movers: Company[],
  listCompany: Company,
): Promise<{
  moves: { company: Company; cardId: string; columnId: string }[];
  list: { boardId: string; columnId: string };
}> {
  // Every database gets the same boards (same ids): with `--against-database` the other side has its own copy.
  const all = (text: string, values?: unknown[]) => Promise.all(dbs.map((db) => db.query(text, values)));
  await all(`delete from cards where board_id in (select id from boards where name = 'bench board')`);
  await all(`delete from board_columns where board_id in (select id from boards where name = 'bench board')`);
  await all(`delete from boards where name = 'bench board'`);
  const board = async (company: Company, cards: number) => {
    const boardId = newId();
    const columns = [newId(), newId()];
    await all(`insert into boards (id, company_id, name, created_by) values ($1, $2, 'bench board', $3)`, [
      boardId,
      company.id,
      company.adminId,
    ]);
    const columnRanks = generateNKeysBetween(null, null, 2);
    for (let i = 0; i < 2; i++) {
      await all(
        `insert into board_columns (id, company_id, board_id, name, rank) values ($1, $2, $3, $4, $5)`,
        [columns[i], company.id, boardId, i === 0 ? 'To do' : 'Doing', columnRanks[i]],
      );
    }
    const ids = Array.from({ length: cards }, () => newId());
    await all(
      `insert into cards (id, company_id, board_id, column_id, rank, title, description, labels, created_by, updated_by)
       select u.id, $1, $2, $3, u.rank, 'Card ' || u.n, 'A card of the benchmark board, **Markdown** as given.',
         '{bench}', $4, $4
       from unnest($5::uuid[], $6::text[]) with ordinality as u(id, rank, n)`,
      [company.id, boardId, columns[0], company.adminId, ids, generateNKeysBetween(null, null, cards)],
    );
    return { boardId, columns, ids };
  };
  const moves: { company: Company; cardId: string; columnId: string }[] = [];
  for (const company of movers) {
    const b = await board(company, 2);
    for (const cardId of b.ids) moves.push({ company, cardId, columnId: b.columns[1] });
  }
  const list = await board(listCompany, 500);
  return { moves, list: { boardId: list.boardId, columnId: list.columns[0] } };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

const measure = (server: ServerProcess, build: () => Promise<Target[]>): Promise<Measured> =>
  measureLoad(server, build, LOAD, WARMUP);

interface Row {
  label: string;
  a: Measured;
  b: Measured;
  /** Names of the two sides (default Tenantry / baseline). */
  names?: [string, string];
}

/** Loads `a` and `b` in turn, `ROUNDS` times each (A B A B …), and keeps the medians. */
async function compare(
  label: string,
  a: ServerProcess,
  b: ServerProcess,
  build: () => Promise<Target[]>,
  between?: (side: 'a' | 'b') => Promise<void>,
): Promise<Row> {
  const as: Measured[] = [];
  const bs: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await between?.('a');
    as.push(await measure(a, build));
    await between?.('b');
    bs.push(await measure(b, build));
    const [x, y] = [as[round], bs[round]];
    say(
      `    round ${round + 1}: p50 ${x.p50Ms} / ${y.p50Ms} ms, ${Math.round(x.rps)} / ${Math.round(y.rps)} req/s, load ${loadavg()[0].toFixed(2)}`,
    );
  }
  const row = { label, a: summarise(as), b: summarise(bs) };
  say(
    `  ${label}: ${Math.round(row.a.rps)} vs ${Math.round(row.b.rps)} req/s (${(row.a.rps / row.b.rps).toFixed(2)}×)` +
      `, p99 ${row.a.p99Ms.toFixed(1)} vs ${row.b.p99Ms.toFixed(1)} ms` +
      `, steal ≤ ${Math.max(row.a.stealPct, row.b.stealPct).toFixed(0)} %` +
      (row.a.errors + row.b.errors > 0 ? `, ERRORS ${row.a.errors} / ${row.b.errors}` : ''),
  );
  return row;
}

function table(rows: Row[], names: [string, string] = ['Tenantry', 'baseline']): string {
  const [a, b] = names;
  const head = [
    `| scenario | ${a} req/s | ${b} req/s | ratio | ${a} p50 / p99 ms | ${b} p50 / p99 ms | CPU ms/req ${a} / ${b} | ${a} peak RSS MB | errors |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    ...head,
    ...rows.map(
      (r) =>
        `| ${r.label} | ${f(r.a.rps)} | ${f(r.b.rps)} | ${(r.a.rps / r.b.rps).toFixed(2)} | ` +
        `${r.a.p50Ms.toFixed(1)} / ${r.a.p99Ms.toFixed(1)} | ${r.b.p50Ms.toFixed(1)} / ${r.b.p99Ms.toFixed(1)} | ` +
        `${r.a.cpuMsPerRequest.toFixed(2)} / ${r.b.cpuMsPerRequest.toFixed(2)} | ` +
        `${Math.round(r.a.peakRssMb)} | ${r.a.errors + r.b.errors} |`,
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

interface Pair {
  tenantry: ServerProcess;
  baseline: ServerProcess;
  stop(): Promise<void>;
}

/** Tenantry as in production, from `mainJs` (this checkout's build, or another's with `--against`). */
function startTenantry(name: string, mainJs: string, port: number, ownerUrl: string): Promise<ServerProcess> {
  return startProductionTenantry(name, mainJs, {
    port,
    ownerUrl,
    jwtSecret: JWT_SECRET,
    nodeFlags: [
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []),
    ],
    env: process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {},
  });
}

async function startPair(ownerUrl: string): Promise<Pair> {
  const tenantry = await startTenantry('tenantry', 'dist/src/main.js', TENANTRY_PORT, ownerUrl);
  // `--against <checkout>`: the other side is Tenantry built in that checkout (a before/after comparison).
  const baseline = await (
    args.against
      ? startTenantry(
          'before',
          `${args.against}/dist/src/main.js`,
          TENANTRY_PORT + 1,
          args['against-database'] ? withDatabase(ownerUrl, args['against-database']) : ownerUrl,
        )
      : startServer(
          'baseline',
          ['--import', '@swc-node/register/esm-register', 'bench/baseline/server.ts'],
          { NODE_ENV: 'production', PORT: String(TENANTRY_PORT + 1), DATABASE_URL: ownerUrl, JWT_SECRET },
          TENANTRY_PORT + 1,
          '/health/live',
        )
  ).catch(async (e: unknown) => {
    await tenantry.stop(); // not left listening when the other side fails to start
    throw e;
  });
  return {
    tenantry,
    baseline,
    stop: async () => {
      await tenantry.stop();
      await baseline.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Plans

/** EXPLAIN (ANALYZE, BUFFERS) of the statements inside the read functions, as the application role. */
async function explain(ownerUrl: string, company: Company, label: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  const plans: string[] = [];
  client.on('notice', (n) => {
    if (n.message?.includes('Query Text')) plans.push(n.message);
  });
  await client.connect();
  try {
    await client.query(`load 'auto_explain'`);
    for (const setting of [
      'auto_explain.log_min_duration = 0',
      'auto_explain.log_analyze = on',
      'auto_explain.log_buffers = on',
      'auto_explain.log_timing = on',
      'auto_explain.log_nested_statements = on',
      'client_min_messages = log',
    ]) {
      await client.query(`set ${setting}`);
    }
    await client.query('set role tenantry_app');
    // Twice each: the second call is the steady state (plans cached, pages in shared buffers).
    for (let i = 0; i < 2; i++) {
      plans.length = 0;
      // The functions read the company of the transaction (as `ScopedReader` sets it), not of their argument.
      await client.query('begin');
      await client.query("select set_config('app.company_id', $1, true)", [company.id]);
      await client.query('select * from tenant_runs_page($1, null, 21, null, null, null)', [company.id]);
      await client.query('select * from tenant_runs_page($1, $2, 21, null, null, null)', [
        company.id,
        company.runIds[0],
      ]);
      await client.query('select * from tenant_run($1, $2)', [company.id, company.runIds[1]]);
      await client.query('commit');
    }
    say(`\n### Plans: ${label}\n`);
    say('```text');
    for (const plan of plans.filter((p) => !p.includes('select * from tenant_') && !p.includes('set_config')))
      say(plan.trim() + '\n');
    say('```');
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const ownerUrl = BENCH_DATABASE_URL;
  const only = args.only ? new Set(args.only.split(',')) : undefined;
  const db = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  const version = (await db.query<{ server_version: string }>('show server_version')).rows[0].server_version;
  const counts = (
    await db.query<{ companies: string; runs: string }>(
      `select (select count(*) from companies)::text as companies, (select reltuples::bigint from pg_class where relname = 'runs')::text as runs`,
    )
  ).rows[0];
  say(`# npm run bench — ${new Date().toISOString()}`);
  say(
    `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; Node ${process.version}; PostgreSQL ${version}; ${loadGenerator()} -t${LOAD.threads} ` +
      `-c${LOAD.connections}, ${LOAD.durationSeconds} s × ${ROUNDS} rounds per side after ${WARMUP.durationSeconds} s of warm-up`,
  );
  say(`data: ${new URL(ownerUrl).pathname.slice(1)}, ${counts.companies} companies, ~${counts.runs} runs`);
  say(`Tenantry: node ${PRODUCTION_NODE_FLAGS.join(' ')} dist/src/main.js (NODE_ENV=production)`);

  // The data set may predate the newest migration: bring its schema up to the code's (as a deploy would).
  await runMigrations(ownerUrl, BENCH_APP_PASSWORD, () => undefined);
  if (args.build) {
    const built = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }

  const sample = await companies(
    db,
    `c.slug like 'bench-0%' and c.id in (select id from companies where slug like 'bench-0%' order by random() limit 100)`,
    50,
  );
  const results: Record<string, unknown> = { at: new Date().toISOString(), load: LOAD, rounds: ROUNDS };
  let pair = await startPair(ownerUrl);
  try {
    say(args.against ? `\n## Tenantry / Tenantry of ${args.against} (before)` : '\n## Tenantry / baseline');
    const rows: Row[] = [];
    for (const s of SCENARIOS) {
      if (only && !only.has(s.key)) continue;
      rows.push(await compare(s.title, pair.tenantry, pair.baseline, () => targets(sample, s.mix)));
    }
    if (rows.length > 0) {
      say('\n' + table(rows, args.against ? ['after', 'before'] : undefined));
      results.scenarios = rows;
    }

    if (!only || only.has('MOVE') || only.has('LIST500')) {
      say('\n## Workspace: card moves (If-Match) and a 500-card column');
      // With `--against-database` the other side reads and moves its own copy of the boards.
      const otherDb = args['against-database']
        ? new pg.Pool({ connectionString: withDatabase(ownerUrl, args['against-database']), max: 2 })
        : undefined;
      const boards = await seedBoards(otherDb ? [db, otherDb] : [db], sample.slice(0, 40), sample[0]);
      let sideDb = db;
      const workspaceRows: Row[] = [];
      if (!only || only.has('MOVE')) {
        // Each card is moved by one connection at a time, with the ETag of its last answer (no 412s).
        const versions = new Map<string, number>();
        const moveTargets = async (): Promise<Target[]> => {
          const rows = await sideDb.query<{ id: string; version: number }>(
            'select id, version from cards where id = any($1::uuid[])',
            [boards.moves.map((m) => m.cardId)],
          );
          for (const r of rows.rows) versions.set(r.id, r.version);
          return Promise.all(
            boards.moves.map(async (m) => ({
              method: 'POST' as const,
              path: `/v1/cards/${m.cardId}/move`,
              token: await accessToken(JWT_SECRET, {
                userId: m.company.adminId,
                companyId: m.company.id,
                role: 'admin',
              }),
              body: JSON.stringify({ columnId: m.columnId }),
              etag: `"${versions.get(m.cardId) ?? 1}"`,
            })),
          );
        };
        workspaceRows.push(
          await compare(
            'MOVE a card (If-Match) + audit event',
            pair.tenantry,
            pair.baseline,
            moveTargets,
            (side) => {
              sideDb = side === 'b' && otherDb ? otherDb : db;
              return Promise.resolve();
            },
          ),
        );
      }
      if (!only || only.has('LIST500')) {
        const token = await accessToken(JWT_SECRET, {
          userId: sample[0].memberId,
          companyId: sample[0].id,
          role: 'member',
        });
        workspaceRows.push(
          await compare('LIST500 a column of 500 cards', pair.tenantry, pair.baseline, () =>
            Promise.resolve([
              {
                method: 'GET',
                path: `/v1/boards/${boards.list.boardId}/cards?columnId=${boards.list.columnId}`,
                token,
              },
            ]),
          ),
        );
      }
      say('\n' + table(workspaceRows, args.against ? ['after', 'before'] : undefined));
      results.workspace = workspaceRows;
      await otherDb?.end();
    }

    if (!only || only.has('ANALYTICS')) {
      say(
        '\n## Analytics: the 90-day daily series, tenant of 100,000 runs against a tenant of 1,000 (Tenantry both)',
      );
      const [big] = await companies(db, `c.slug = 'bench-big'`, 1);
      const [small] = await companies(db, `c.slug = 'bench-00001'`, 1);
      const to = new Date();
      const from = new Date(to.getTime() - 90 * 86_400_000);
      const series = async (company: Company, timezone: string): Promise<Target[]> => [
        {
          method: 'GET',
          path: `/v1/analytics/runs?interval=day&timezone=${timezone}&from=${from.toISOString()}&to=${to.toISOString()}`,
          token: await accessToken(JWT_SECRET, {
            userId: company.memberId,
            companyId: company.id,
            role: 'member',
          }),
        },
      ];
      const analyticsRows: Row[] = [];
      for (const timezone of ['UTC', 'Europe/Berlin']) {
        // One server, the two tenants in turn (A B A B): the second side's targets are the 1k tenant's.
        let side: 'a' | 'b' = 'a';
        analyticsRows.push(
          await compare(
            `ANALYTICS 90 days daily, ${timezone}: 100k / 1k runs`,
            pair.tenantry,
            pair.tenantry,
            () => series(side === 'a' ? big : small, timezone),
            (s) => {
              side = s;
              return Promise.resolve();
            },
          ),
        );
      }
      say('\n' + table(analyticsRows, ['100k runs', '1k runs']));
      results.analytics = analyticsRows;
    }

    if (args.rls && (!only || only.has('RLS'))) {
      say('\n## Row-level security on R2 (Tenantry with the policies, then without them)');
      const setRls = async (on: boolean) => {
        for (const t of RLS_TABLES) {
          await db.query(
            on
              ? `alter table ${t} enable row level security; alter table ${t} force row level security`
              : `alter table ${t} no force row level security; alter table ${t} disable row level security`,
          );
        }
      };
      try {
        const row = await compare(
          'R2, RLS on / RLS off',
          pair.tenantry,
          pair.tenantry,
          () => targets(sample, [['R2', 1]]),
          (side) => setRls(side === 'a'),
        );
        say(`  cost of the wall: ${((1 - row.a.rps / row.b.rps) * 100).toFixed(1)} % of R2 throughput`);
        say('\n' + table([row], ['RLS on', 'RLS off']));
        results.rls = row;
      } finally {
        await setRls(true);
      }
    }

    if (args.scaling && (!only || only.has('ROWS'))) {
      say('\n## Scaling: rows per tenant (one tenant of 1,000 runs, then bench-big with 100,000)');
      const small = await companies(db, `c.slug = 'bench-00001'`, 2000);
      const big = await companies(db, `c.slug = 'bench-big'`, 2000);
      const scaleRows: Row[] = [];
      for (const [kind, name] of [
        ['R2', 'R2'],
        ['R1', 'R1'],
        ['R1c', 'R1c'],
      ] as [Kind, string][]) {
        for (const [of, size] of [
          [small, '1k rows'],
          [big, '100k rows'],
        ] as [Company[], string][]) {
          scaleRows.push(
            await compare(`${name}, tenant of ${size}`, pair.tenantry, pair.baseline, () =>
              targets(of, [[kind, 1]]),
            ),
          );
        }
      }
      say('\n' + table(scaleRows));
      results.rowsPerTenant = scaleRows;
    }
    if (args.scaling && (!only || only.has('TENANTS'))) {
      say('\n## Scaling: tenants (1,000 companies, then 10,000, 100 runs each)');
      const name = new URL(ownerUrl).pathname.slice(1);
      const tenantRows: Row[] = [];
      for (const suffix of ['t1k', 't10k']) {
        await pair.stop();
        const url = withDatabase(ownerUrl, `${name}_${suffix}`);
        const other = new pg.Pool({ connectionString: url, max: 2 });
        try {
          await runMigrations(url, BENCH_APP_PASSWORD, () => undefined);
          const of = await companies(
            other,
            `c.id in (select id from companies order by random() limit 100)`,
            50,
          );
          pair = await startPair(url);
          for (const kind of ['R2', 'R1'] as Kind[]) {
            tenantRows.push(
              await compare(
                `${kind}, ${suffix === 't1k' ? '1,000' : '10,000'} tenants`,
                pair.tenantry,
                pair.baseline,
                () => targets(of, [[kind, 1]]),
              ),
            );
          }
        } finally {
          await other.end();
        }
      }
      say('\n' + table(tenantRows));
      results.tenants = tenantRows;
    }

    if (args.explain) {
      await explain(ownerUrl, (await companies(db, `c.slug = 'bench-00001'`, 2))[0], 'tenant of 1,000 runs');
      await explain(ownerUrl, (await companies(db, `c.slug = 'bench-big'`, 2))[0], 'tenant of 100,000 runs');
    }
  } finally {
    await pair.stop();
    await db.end();
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/run-${new Date().toISOString().replaceAll(':', '-')}.json`;
  writeFileSync(file, JSON.stringify(results, null, 2));
  say(`\nraw results: ${file}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
