/**
 * `npm run bench:adapters`: why Tenantry runs NestJS on Fastify rather than Express (docs/benchmarks.md,
 * "HTTP adapter"). Starts the same minimal NestJS application (bench/adapter-app.ts) once per adapter and loads
 * them in turn — Fastify, Express, Fastify, Express … — on `GET /live` (no database) and `GET /runs` (one
 * indexed query on the benchmark data set of DATABASE_URL; run `npm run bench:seed` first).
 *
 * Options: `-- --rounds 3 --duration 10 --warmup 3 --connections 32 --threads 1`.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BENCH_DATABASE_URL, say } from './lib/common.js';
import { loadGenerator, runLoad, type LoadResult } from './lib/load.js';
import { LOAD_ARGS, loadSettings } from './lib/measure.js';
import { startServer, type ServerProcess } from './lib/servers.js';

const { values: args } = parseArgs({
  options: {
    ...LOAD_ARGS,
  },
});
const { load: LOAD, warmup: WARMUP } = loadSettings(args);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const db = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await db.connect();
  const company = (await db.query<{ id: string }>(`select id from companies where slug = 'bench-00001'`))
    .rows[0]?.id;
  await db.end();
  if (!company) throw new Error('no benchmark data: run npm run bench:seed first');

  const servers: ServerProcess[] = [];
  for (const [i, adapter] of ['fastify', 'express'].entries()) {
    servers.push(
      await startServer(
        adapter,
        ['--import', '@swc-node/register/esm-register', 'bench/adapter-app.ts'],
        { ADAPTER: adapter, PORT: String(3110 + i), DATABASE_URL: BENCH_DATABASE_URL, COMPANY_ID: company },
        3110 + i,
        '/live',
      ),
    );
  }
  say(
    `# npm run bench:adapters — ${loadGenerator()} -t${LOAD.threads} -c${LOAD.connections}, ${LOAD.durationSeconds} s × ${args.rounds}`,
  );
  say(
    '| route | Fastify req/s | Express req/s | Fastify / Express | Fastify p50 / p99 ms | Express p50 / p99 ms |',
  );
  say('| --- | ---: | ---: | ---: | ---: | ---: |');
  try {
    for (const path of ['/live', '/runs']) {
      const results = new Map<string, LoadResult[]>(servers.map((s) => [s.name, []]));
      for (let round = 0; round < Number(args.rounds); round++) {
        for (const server of servers) {
          const targets = [{ method: 'GET' as const, path }];
          await runLoad(server.url, targets, WARMUP);
          results.get(server.name)!.push(await runLoad(server.url, targets, LOAD));
        }
      }
      const [f, e] = servers.map((s) => {
        const rs = results.get(s.name)!;
        return {
          rps: median(rs.map((r) => r.rps)),
          p50: median(rs.map((r) => r.p50Ms)),
          p99: median(rs.map((r) => r.p99Ms)),
        };
      });
      say(
        `| GET ${path} | ${Math.round(f.rps)} | ${Math.round(e.rps)} | ${(f.rps / e.rps).toFixed(2)} | ` +
          `${f.p50.toFixed(1)} / ${f.p99.toFixed(1)} | ${e.p50.toFixed(1)} / ${e.p99.toFixed(1)} |`,
      );
    }
  } finally {
    for (const s of servers) await s.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
