/**
 * `npm run bench:runs`: fairness and throughput of the run workers (results in docs/benchmarks.md, "Runs").
 *
 * Against a fresh database on the server of DATABASE_URL (default: the local PostgreSQL as `postgres`), with
 * the API in this process (WORKER_MODE=off) and two worker processes (`src/worker.ts`), a local stub endpoint
 * standing in for the connectors:
 *
 * 1. Fairness: company A queues 1,000 runs and company B 5, both capped at 2 concurrent runs. B's runs are
 *    queued while A's backlog is being worked off; we report how long B's runs waited to start, and the
 *    highest concurrency of A seen at the endpoint (in-flight requests) and in the database (sampled count of
 *    `running` runs).
 * 2. Throughput: runs of one fast `tool` step (the stub answers at once), queued first, then executed by the two
 *    workers: runs per second from the first start to the last finish.
 *
 * Options: `-- --a-runs 1000 --b-runs 5 --step-ms 50 --throughput-runs 2000 --companies 8 --concurrency 8`.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { say, sleep } from './lib/common.js';
import {
  freshDatabase,
  IN_PROCESS_ENV,
  startInProcessApp,
  startRuns,
  type JsonApi,
} from './lib/in-process.js';

const { values: args } = parseArgs({
  options: {
    'a-runs': { type: 'string', default: '1000' },
    'b-runs': { type: 'string', default: '5' },
    'step-ms': { type: 'string', default: '50' },
    'throughput-runs': { type: 'string', default: '2000' },
    companies: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const A_RUNS = Number(args['a-runs']);
const B_RUNS = Number(args['b-runs']);
const STEP_MS = Number(args['step-ms']);
const THROUGHPUT_RUNS = Number(args['throughput-runs']);
const COMPANIES = Number(args.companies);
const CONCURRENCY = Number(args.concurrency);
const CAP = 2;

const ENV: Record<string, string> = { ...IN_PROCESS_ENV, CONNECTOR_ALLOWED_HOSTS: '127.0.0.1' };

/** The stub connector endpoint: answers after `delay(path)`, counting requests in flight per path. */
interface Stub {
  url(path: string): string;
  inFlight: Map<string, number>;
  maxInFlight: Map<string, number>;
  count: Map<string, number>;
  firstAt: Map<string, number>;
  close(): Promise<void>;
}

async function startStub(delay: (path: string) => number): Promise<Stub> {
  const stub = {
    inFlight: new Map<string, number>(),
    maxInFlight: new Map<string, number>(),
    count: new Map<string, number>(),
    firstAt: new Map<string, number>(),
  };
  const server: Server = createServer((req, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      const now = Date.now();
      if (!stub.firstAt.has(path)) stub.firstAt.set(path, now);
      stub.count.set(path, (stub.count.get(path) ?? 0) + 1);
      const n = (stub.inFlight.get(path) ?? 0) + 1;
      stub.inFlight.set(path, n);
      stub.maxInFlight.set(path, Math.max(stub.maxInFlight.get(path) ?? 0, n));
      const answer = () => {
        stub.inFlight.set(path, (stub.inFlight.get(path) ?? 1) - 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      };
      const ms = delay(path);
      if (ms > 0) setTimeout(answer, ms);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    ...stub,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A company (its owner's token) with a cap, `svc.step` bound to `path`, and a one-step process. */
async function setupCompany(
  call: JsonApi,
  stub: Stub,
  name: string,
  cap: number,
  path: string,
): Promise<{ id: string; token: string; version: string }> {
  const email = `${name.toLowerCase().replace(/\W/g, '')}-${Date.now()}@bench.test`;
  const reg = await call('POST', '/v1/auth/register', undefined, {
    email,
    password: 'correct horse battery staple',
    name: 'Owner',
    companyName: name,
  });
  const token = reg.accessToken as string;
  const id = (reg.company as { id: string }).id;
  await call('PATCH', `/v1/companies/${id}`, token, { maxConcurrentRuns: cap });
  await call('POST', '/v1/connectors', token, {
    toolId: 'svc.step',
    endpointUrl: stub.url(path),
    authScheme: 'none',
  });
  const draft = await call('POST', '/v1/drafts', token, {
    name: `${name} process`,
    description: 'One tool step',
    category: 'finance',
    inputSchema: { type: 'object' },
    steps: [{ id: 'step', kind: 'tool', name: 'Step', toolId: 'svc.step', input: { n: 1 }, retries: 0 }],
  });
  const published = await call('POST', `/v1/drafts/${draft.id as string}/publish`, token);
  return { id, token, version: published.publishedVersionId as string };
}

function startWorker(ownerUrl: string, appUrl: string, name: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CPU_PROF] : []),
      '--import',
      '@swc-node/register/esm-register',
      'src/worker.ts',
      '--concurrency',
      String(CONCURRENCY),
    ],
    {
      env: { ...process.env, ...ENV, LOG_LEVEL: 'info', DATABASE_URL: ownerUrl, DATABASE_APP_URL: appUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Tenantry worker running')) {
        clearTimeout(timer);
        output = '';
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume(); // keep draining, or a full pipe would block the worker's logging
        // Keep errors visible.
        child.stderr.on('data', (c: Buffer) => process.stderr.write(`[${name}] ${c.toString()}`));
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${String(code)}):\n${output}`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const db = await freshDatabase('tenantry_bench_runs');
  const { name: database, ownerUrl, appUrl } = db;
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });

  const { app, call } = await startInProcessApp(ENV, appUrl);
  const stub = await startStub((path) => (path.startsWith('/fair/') ? STEP_MS : 0));
  const workers: ChildProcess[] = [];

  try {
    say(`# Runs benchmark (${new Date().toISOString()})`);
    say(
      `database ${database}; ${A_RUNS} runs of A and ${B_RUNS} of B (cap ${CAP} each, step ${STEP_MS} ms); `,
    );
    say(`2 worker processes × concurrency ${CONCURRENCY}`);

    // ---------------------------------------------------------------- fairness
    const A = await setupCompany(call, stub, 'Bench A', CAP, '/fair/A');
    const B = await setupCompany(call, stub, 'Bench B', CAP, '/fair/B');
    const queueA = await startRuns(call, A, A_RUNS);
    say(
      `queued ${A_RUNS} runs of A in ${queueA} ms (${Math.round((A_RUNS / queueA) * 1000)} starts/s over HTTP)`,
    );

    let maxRunningA = 0;
    let maxRunningB = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await owner.query<{ company_id: string; n: number }>(
          "select company_id, count(*)::int as n from runs where status = 'running' group by company_id",
        );
        for (const r of rows) {
          if (r.company_id === A.id) maxRunningA = Math.max(maxRunningA, r.n);
          if (r.company_id === B.id) maxRunningB = Math.max(maxRunningB, r.n);
        }
        await sleep(5);
      }
    })();

    workers.push(await startWorker(ownerUrl, appUrl, 'worker-1'));
    workers.push(await startWorker(ownerUrl, appUrl, 'worker-2'));
    const fairStart = Date.now();
    const underWay = Math.min(50, Math.floor(A_RUNS / 4));
    await waitUntil(async () => (stub.count.get('/fair/A') ?? 0) >= underWay, 'A to be under way');
    const bQueuedAt = Date.now();
    await startRuns(call, B, B_RUNS, B_RUNS);
    await waitUntil(
      async () =>
        (
          await owner.query<{ n: number }>(
            "select count(*)::int as n from runs where company_id = $1 and status = 'succeeded'",
            [B.id],
          )
        ).rows[0].n === B_RUNS,
      'B to finish',
    );
    const bDoneAt = Date.now();
    const aDoneWhenBDone = stub.count.get('/fair/A') ?? 0;
    const latency = await owner.query<{ first_ms: number; last_ms: number; first_http_ms: number }>(
      `select min(extract(epoch from e.created_at - r.created_at) * 1000)::int as first_ms,
              max(extract(epoch from e.created_at - r.created_at) * 1000)::int as last_ms
         from runs r join run_events e on e.run_id = r.id and e.type = 'run.running'
        where r.company_id = $1`,
      [B.id],
    );
    await waitUntil(
      async () =>
        (
          await owner.query<{ n: number }>(
            "select count(*)::int as n from runs where company_id = $1 and status in ('succeeded', 'failed')",
            [A.id],
          )
        ).rows[0].n === A_RUNS,
      'A to finish',
    );
    const aDoneAt = Date.now();
    sampling = false;
    await sampler;
    const failedA = (
      await owner.query<{ n: number }>(
        "select count(*)::int as n from runs where company_id = $1 and status <> 'succeeded'",
        [A.id],
      )
    ).rows[0].n;

    say('');
    say('## Fairness');
    say(
      `B queued after A had ${50}+ runs under way; B's runs started after (queued → running, database clock):`,
    );
    say(`  first B run: ${latency.rows[0].first_ms} ms, slowest of ${B_RUNS}: ${latency.rows[0].last_ms} ms`);
    say(
      `  endpoint: first B call ${(stub.firstAt.get('/fair/B') ?? 0) - bQueuedAt} ms after B's first POST began`,
    );
    say(
      `  all ${B_RUNS} B runs finished ${bDoneAt - bQueuedAt} ms after queueing, while A had done ${aDoneWhenBDone}/${A_RUNS}`,
    );
    say(
      `A: max in flight at the endpoint ${stub.maxInFlight.get('/fair/A') ?? 0}, max running in the database ${maxRunningA} (cap ${CAP})`,
    );
    say(
      `B: max in flight at the endpoint ${stub.maxInFlight.get('/fair/B') ?? 0}, max running in the database ${maxRunningB} (cap ${CAP})`,
    );
    say(`A drained ${A_RUNS} runs in ${aDoneAt - fairStart} ms (${failedA} not succeeded)`);

    // ---------------------------------------------------------------- throughput
    for (const w of workers.splice(0)) await stopWorker(w);
    const companies = [];
    for (let i = 0; i < COMPANIES; i++) {
      companies.push(
        await setupCompany(
          call,
          stub,
          `Bench T${i}`,
          Math.max(CAP, Math.ceil((2 * CONCURRENCY) / COMPANIES) + 2),
          `/fast/${i}`,
        ),
      );
    }
    const perCompany = Math.ceil(THROUGHPUT_RUNS / COMPANIES);
    const queueStart = Date.now();
    await Promise.all(
      companies.map((c) => startRuns(call, c, perCompany, Math.max(1, Math.floor(16 / COMPANIES)))),
    );
    const queueMs = Date.now() - queueStart;
    const total = perCompany * COMPANIES;
    say('');
    say('## Throughput');
    say(
      `queued ${total} runs of ${COMPANIES} companies in ${queueMs} ms (${Math.round((total / queueMs) * 1000)} starts/s over HTTP, one API process)`,
    );
    workers.push(await startWorker(ownerUrl, appUrl, 'worker-1'));
    workers.push(await startWorker(ownerUrl, appUrl, 'worker-2'));
    const ids = companies.map((c) => c.id);
    await waitUntil(
      async () =>
        (
          await owner.query<{ n: number }>(
            "select count(*)::int as n from runs where company_id = any($1) and status in ('succeeded', 'failed')",
            [ids],
          )
        ).rows[0].n === total,
      'the throughput runs to finish',
    );
    const span = await owner.query<{ ms: number; failed: number }>(
      `select (extract(epoch from max(r.finished_at) - min(e.created_at)) * 1000)::int as ms,
              count(*) filter (where r.status <> 'succeeded')::int as failed
         from runs r join run_events e on e.run_id = r.id and e.type = 'run.running'
        where r.company_id = any($1)`,
      [ids],
    );
    const ms = span.rows[0].ms;
    say(
      `executed ${total} one-step runs in ${ms} ms: ${Math.round((total / ms) * 1000)} runs/s (${span.rows[0].failed} not succeeded)`,
    );
  } finally {
    for (const w of workers) await stopWorker(w);
    await app.close();
    await stub.close();
    await owner.end();
    if (!args.keep) await db.drop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
