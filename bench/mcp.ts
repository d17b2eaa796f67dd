/**
 * `npm run bench:mcp`: an MCP tool call against the HTTP route it mirrors, side by side on one server (issue 19,
 * "Speed": `get_run` through `/mcp` costs ≤ 1.3 × `GET /v1/runs/{id}`). Run `npm run bench:seed` first.
 *
 * Starts Tenantry as `npm run bench` does (`npm run build`, `node dist/src/main.js`, NODE_ENV=production, the
 * application role under row-level security, a pool of 10) on the database of DATABASE_URL, then loads it in turn
 * with the two scenarios — HTTP, MCP, HTTP, MCP … (`--rounds`) — requests spread over 50 companies, each with a
 * member's access token of its company:
 *   HTTP  GET /v1/runs/{id}
 *   MCP   POST /mcp  {"method":"tools/call","params":{"name":"get_run","arguments":{"id":…}}}  (stateless: one
 *         JSON-RPC message per request, no initialize, as an agent's client sends after connecting)
 * and prints req/s, p50 / p99 and server CPU per request (each round's, then medians over the rounds), and the cost
 * ratio.
 * Options: `--rounds 3`, `--duration 10`, `--warmup 3`, `--connections 32`, `--threads 1`, `--no-build`,
 * `--profile <dir>` (a `--cpu-prof` of the server), `--port 3103` (another one when a second bench runs beside it).
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runMigrations } from '../src/database/migrate.js';
import { accessToken, BENCH_APP_PASSWORD, BENCH_DATABASE_URL, say } from './lib/common.js';
import { loadGenerator, type Target } from './lib/load.js';
import { LOAD_ARGS, loadSettings, measure, summarise, type Measured } from './lib/measure.js';
import { startTenantry } from './lib/servers.js';

const { values: args } = parseArgs({
  options: {
    ...LOAD_ARGS,
    build: { type: 'boolean', default: true },
    profile: { type: 'string' },
    port: { type: 'string', default: '3103' },
  },
  allowNegative: true,
});
const { rounds: ROUNDS, load: LOAD, warmup: WARMUP } = loadSettings(args);
const JWT_SECRET = randomBytes(48).toString('base64url');
interface Sample {
  token: string;
  runIds: string[];
}

async function sample(db: pg.Pool): Promise<Sample[]> {
  const { rows } = await db.query<{ id: string; memberId: string; runIds: string[] }>(
    `select c.id,
       (select user_id from memberships m where m.company_id = c.id and m.role = 'member' limit 1) as "memberId",
       array(select r.id from runs r where r.company_id = c.id order by random() limit 50) as "runIds"
     from companies c where c.slug like 'bench-0%' order by random() limit 50`,
  );
  if (rows.length === 0 || rows.some((r) => r.runIds.length === 0)) {
    throw new Error('no seeded companies with runs: run npm run bench:seed first');
  }
  return Promise.all(
    rows.map(async (r) => ({
      token: await accessToken(JWT_SECRET, { userId: r.memberId, companyId: r.id, role: 'member' }),
      runIds: r.runIds,
    })),
  );
}

const rpc = (id: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'get_run', arguments: { id } },
  });

function targets(companies: Sample[], kind: 'HTTP' | 'MCP'): Target[] {
  return companies.flatMap((c) =>
    c.runIds.map((id): Target =>
      kind === 'HTTP'
        ? { method: 'GET', path: `/v1/runs/${id}`, token: c.token }
        : { method: 'POST', path: '/mcp', token: c.token, body: rpc(id) },
    ),
  );
}

async function main(): Promise<void> {
  const ownerUrl = BENCH_DATABASE_URL;
  await runMigrations(ownerUrl, BENCH_APP_PASSWORD, () => undefined);
  if (args.build && spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status !== 0) {
    throw new Error('npm run build failed');
  }
  const db = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  const companies = await sample(db);
  await db.end();
  const server = await startTenantry('tenantry', 'dist/src/main.js', {
    port: Number(args.port),
    ownerUrl,
    jwtSecret: JWT_SECRET,
    nodeFlags: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [],
  });
  try {
    // One call of each first: a tool error (isError) would be a 200 and pass unnoticed under load.
    const probe = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${companies[0].token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: rpc(companies[0].runIds[0]),
    });
    const reply = (await probe.json()) as {
      result?: { isError?: boolean; structuredContent?: { id?: string } };
    };
    if (reply.result?.isError || reply.result?.structuredContent?.id !== companies[0].runIds[0]) {
      throw new Error(`get_run through MCP failed: ${JSON.stringify(reply).slice(0, 500)}`);
    }
    say(`# npm run bench:mcp — ${new Date().toISOString()}`);
    say(
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; ${loadGenerator()} -t${LOAD.threads} -c${LOAD.connections}, ${LOAD.durationSeconds} s × ` +
        `${ROUNDS} rounds per side after ${WARMUP.durationSeconds} s of warm-up; 50 companies × 50 runs`,
    );
    const http: Measured[] = [];
    const mcp: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      http.push(await measure(server, () => Promise.resolve(targets(companies, 'HTTP')), LOAD, WARMUP));
      mcp.push(await measure(server, () => Promise.resolve(targets(companies, 'MCP')), LOAD, WARMUP));
      const [route, tool] = [http[round], mcp[round]];
      say(
        `  round ${round + 1}: HTTP ${Math.round(route.rps)} req/s ${route.cpuMsPerRequest.toFixed(2)} ms CPU/req, ` +
          `MCP ${Math.round(tool.rps)} req/s ${tool.cpuMsPerRequest.toFixed(2)} ms CPU/req ` +
          `(${(tool.cpuMsPerRequest / route.cpuMsPerRequest).toFixed(2)}×)`,
      );
    }
    const h = summarise(http);
    const m = summarise(mcp);
    const f = (n: number) => Math.round(n).toLocaleString('en-US');
    say('');
    say('| side | req/s | p50 / p99 ms | server CPU ms/req | errors |');
    say('| --- | ---: | ---: | ---: | ---: |');
    say(
      `| HTTP \`GET /v1/runs/{id}\` | ${f(h.rps)} | ${h.p50Ms.toFixed(1)} / ${h.p99Ms.toFixed(1)} | ${h.cpuMsPerRequest.toFixed(2)} | ${h.errors} |`,
    );
    say(
      `| MCP \`get_run\` | ${f(m.rps)} | ${m.p50Ms.toFixed(1)} / ${m.p99Ms.toFixed(1)} | ${m.cpuMsPerRequest.toFixed(2)} | ${m.errors} |`,
    );
    say('');
    say(
      `cost of a tool call / the route: ${(h.rps / m.rps).toFixed(2)}× by throughput, ` +
        `${(m.cpuMsPerRequest / h.cpuMsPerRequest).toFixed(2)}× by server CPU per request (target ≤ 1.3×)`,
    );
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
