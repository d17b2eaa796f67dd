/**
 * `npm run bench:accounts`: what the account-wide run budget costs run starts (results in docs/benchmarks.md,
 * "Account run budget").
 *
 * Every run start locks its company's month counter, then its account's (`account_run_usage`). Starts in two
 * companies of *one* account therefore serialise on the account's row, where starts in companies of two accounts
 * do not. Against a fresh database (DATABASE_URL's server), the API in this process (WORKER_MODE=off: runs only
 * queue), side by side in one process, alternating, fresh companies each round:
 *
 * - `separate`: two companies, each of its own account, `--runs` starts each, `--parallel` requests at a time each;
 * - `shared`: two companies of one account (the second made by `POST /v1/account/companies`), the same load.
 *
 * Options: `-- --runs 150 --parallel 8 --rounds 3`.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { say } from './lib/common.js';
import {
  freshDatabase,
  IN_PROCESS_ENV,
  startInProcessApp,
  startRuns,
  type JsonApi,
} from './lib/in-process.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '150' },
    parallel: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});
const RUNS = Number(args.runs);
const PARALLEL = Number(args.parallel);
const ROUNDS = Number(args.rounds);

const ENV: Record<string, string> = {
  ...IN_PROCESS_ENV,
  DATABASE_POOL_MAX: '20',
  // Budgets out of the way: only the locking is measured.
  ACCOUNT_PLANS: JSON.stringify({
    bench: { maxCompanies: null, maxMembersPerCompany: null, monthlyRunBudget: null },
    free: { maxCompanies: 3, maxMembersPerCompany: 50, monthlyRunBudget: 1_000_000 },
  }),
};

interface Co {
  token: string;
  version: string;
}

let seq = 0;
async function publish(call: JsonApi, token: string): Promise<string> {
  const draft = await call('POST', '/v1/drafts', token, {
    name: `Bench process ${++seq}`,
    description: 'One approval step',
    category: 'finance',
    inputSchema: { type: 'object' },
    steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Ok?' }],
  });
  const published = await call('POST', `/v1/drafts/${draft.id as string}/publish`, token);
  return published.publishedVersionId as string;
}

async function register(call: JsonApi): Promise<{ token: string; companyId: string }> {
  const reg = await call('POST', '/v1/auth/register', undefined, {
    email: `bench-${Date.now()}-${++seq}@bench.test`,
    password: 'correct horse battery staple',
    name: 'Owner',
    companyName: `Bench Co ${seq}`,
  });
  return { token: reg.accessToken as string, companyId: (reg.company as { id: string }).id };
}

async function separate(call: JsonApi): Promise<Co[]> {
  const out: Co[] = [];
  for (let i = 0; i < 2; i++) {
    const { token } = await register(call);
    out.push({ token, version: await publish(call, token) });
  }
  return out;
}

async function shared(call: JsonApi): Promise<Co[]> {
  const { token } = await register(call);
  const made = await call('POST', '/v1/account/companies', token, { name: `Bench Co ${++seq}` });
  const switched = await call('POST', '/v1/auth/switch-company', token, { companyId: made.id });
  const second = switched.accessToken as string;
  return [
    { token, version: await publish(call, token) },
    { token: second, version: await publish(call, second) },
  ];
}

/** Starts RUNS runs in each company at once, PARALLEL requests at a time per company; starts per second. */
async function load(call: JsonApi, companies: Co[]): Promise<number> {
  const started = performance.now();
  await Promise.all(companies.map((c) => startRuns(call, c, RUNS, PARALLEL)));
  return (companies.length * RUNS * 1000) / (performance.now() - started);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const db = await freshDatabase('tenantry_bench_accounts');
  const { app, call } = await startInProcessApp(ENV, db.appUrl);
  try {
    say(`# Account run budget benchmark (${new Date().toISOString()})`);
    say(`2 companies × ${RUNS} starts, ${PARALLEL} requests at a time per company, ${ROUNDS} rounds`);
    const results: Record<'separate' | 'shared', number[]> = { separate: [], shared: [] };
    // Warm-up (JIT, pool), not counted.
    await load(call, await separate(call));
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of r % 2 === 0
        ? (['separate', 'shared'] as const)
        : (['shared', 'separate'] as const)) {
        const companies = kind === 'separate' ? await separate(call) : await shared(call);
        const rate = await load(call, companies);
        results[kind].push(rate);
        say(`round ${r + 1} ${kind.padEnd(8)} ${rate.toFixed(0)} starts/s`);
      }
    }
    const s = median(results.separate);
    const o = median(results.shared);
    say(
      `median: separate accounts ${s.toFixed(0)} starts/s, one account ${o.toFixed(0)} starts/s, ratio ${(o / s).toFixed(2)}`,
    );
  } finally {
    await app.close();
    await db.drop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
