/**
 * Audit trail benchmark (`npm run bench:audit`; results in docs/benchmarks.md, "Audit trail").
 *
 * Against the PostgreSQL server of DATABASE_URL it creates a scratch database, migrates it, and measures, through
 * the real `AuditService.record()` (connected as `tenantry_app`, each append its own transaction inside
 * `TenancyService.run`, exactly like a request):
 *   1. appends/s for ONE busy company with 1, 4, 16 and 32 concurrent writers (serialised by its chain head);
 *   2. appends/s for 50 companies writing at once (one and two writers each): no global lock, so it scales;
 *   3. the latency of a quiet company's appends while a busy company is hammered by 0, 4, 8 or 32 writers (the
 *      lock is per company; the connection pool is shared, see docs/benchmarks.md);
 *   4. the cost of verifying a 100,000-event chain: seeded fast as the owner (built in Node, multi-row
 *      inserts), then `AuditQueryService.verify()` (the API path minus HTTP) and the pure chain verifier alone.
 * Then it drops the scratch database. Options: --quick (smaller runs), --pool N (default 10, the app default),
 * --keep (keep the database),
 * --only 1,3 (run some scenarios).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { AuditQueryService } from '../src/audit/audit-query.service.js';
import { toAuditRecord } from '../src/audit/audit-record.js';
import { AuditEvent } from '../src/audit/audit-event.entity.js';
import { AuditService } from '../src/audit/audit.service.js';
import { ChainVerifier } from '../src/audit/chain-verifier.js';
import { verifyNdjsonFile } from '../src/audit/offline-verifier.js';
import { systemContext } from '../src/cli/commands/audit.command.js';
import { newId } from '../src/common/ids.js';
import { runMigrations } from '../src/database/migrate.js';
import { buildOrmConfig } from '../src/database/orm.config.js';
import { deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { seedAuditChain } from '../test/harness/audit-chain.js';
import { TEST_ENV } from '../test/setup/test-env.js';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pool: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
    only: { type: 'string', default: '1,2,3,4' },
  },
});
const quick = opts.quick ?? false;
const poolMax = Number(opts.pool);
const scenarios = new Set((opts.only ?? '1,2,3,4').split(','));

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  process.stderr.write(
    'Set DATABASE_URL to a PostgreSQL server (owner/superuser), e.g. postgres://postgres@127.0.0.1:5432/postgres\n',
  );
  process.exit(2);
}
// The tenantry_app role is cluster-wide: keep the password the test suites use, so parallel test runs keep working.
const appPassword = TEST_ENV.DATABASE_APP_PASSWORD;

const out = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const database = `tenantry_bench_audit_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl!, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]
    .server_version;
  await admin.end();
  const ownerUrl = withDatabase(serverUrl!, database);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  let orm: MikroORM | undefined;
  try {
    await runMigrations(ownerUrl, appPassword, () => undefined);
    orm = await MikroORM.init(
      buildOrmConfig({ url: deriveAppUrl(ownerUrl, undefined, appPassword), poolMax }),
    );
    const tenancy = new TenancyService(orm);
    const audit = new AuditService(tenancy);
    const queries = new AuditQueryService(tenancy, audit);

    out(`# Audit trail benchmark — ${new Date().toISOString()}`);
    out(
      `node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), PostgreSQL ${version} on the same machine, pool ${poolMax}`,
    );

    const createCompanies = async (n: number): Promise<string[]> => {
      const ids = Array.from({ length: n }, () => newId());
      for (const id of ids) {
        // Each company its own account (same id), as registration would make.
        await owner.query('insert into accounts (id, name) values ($1, $2)', [id, `Bench account ${id}`]);
        await owner.query('insert into companies (id, name, slug, account_id) values ($1, $2, $3, $1)', [
          id,
          `Bench ${id}`,
          `bench-${id}`,
        ]);
      }
      // The first event of a company creates its chain head (registration does this in the app).
      for (const id of ids) await append(id, 0);
      return ids;
    };

    const append = (companyId: string, i: number) =>
      tenancy.run(systemContext(companyId), (em) =>
        em.transactional((tx) =>
          audit.record(
            {
              action: 'company.updated',
              target: { type: 'Company', id: companyId },
              metadata: { fields: ['name'], i },
            },
            tx,
          ),
        ),
      );

    let lastCpuMsPerAppend = 0;
    /** `writers` loops per company, each appending `perWriter` events; returns events/s over the wall time. */
    const measure = async (companies: string[], writers: number, perWriter: number): Promise<number> => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        companies.flatMap((id) =>
          Array.from({ length: writers }, async () => {
            for (let i = 0; i < perWriter; i++) await append(id, i);
          }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      lastCpuMsPerAppend = (used.user + used.system) / 1000 / (companies.length * writers * perWriter);
      return (companies.length * writers * perWriter) / seconds;
    };

    const assertValid = async (companyId: string) => {
      const v = await tenancy.run(systemContext(companyId), (em) => queries.verify(em));
      if (!v.valid) throw new Error(`chain of ${companyId} is broken: ${JSON.stringify(v)}`);
      return v;
    };

    // Warm-up (connections, JIT, plan caches).
    const [warm] = await createCompanies(1);
    await measure([warm], 4, quick ? 25 : 100);

    if (scenarios.has('1')) {
      out('');
      out('## 1. One busy company (appends serialised by its chain head)');
      out('| concurrent writers | events | events/s | Node CPU ms/append |');
      out('| ---: | ---: | ---: | ---: |');
      for (const writers of [1, 4, 16, 32]) {
        const [company] = await createCompanies(1);
        const total = quick ? 400 : 4_000;
        const rate = await measure([company], writers, Math.ceil(total / writers));
        const v = await assertValid(company);
        out(`| ${writers} | ${fmt(v.headSeq - 1)} | ${fmt(rate)} | ${lastCpuMsPerAppend.toFixed(2)} |`);
      }
    }

    if (scenarios.has('2')) {
      out('');
      out('## 2. 50 companies writing at once');
      out(
        '| writers per company | concurrent writers | events | events/s (all companies) | Node CPU ms/append |',
      );
      out('| ---: | ---: | ---: | ---: | ---: |');
      for (const writers of [1, 2]) {
        const companies = await createCompanies(50);
        const perWriter = quick ? 10 : 100;
        const rate = await measure(companies, writers, perWriter);
        for (const id of companies) await assertValid(id);
        out(
          `| ${writers} | ${50 * writers} | ${fmt(50 * writers * perWriter)} | ${fmt(rate)} | ${lastCpuMsPerAppend.toFixed(2)} |`,
        );
      }
    }

    if (scenarios.has('3')) {
      out('');
      out('## 3. A quiet company next to a busy one (per-append latency)');
      out(
        `| busy company's concurrent writers | busy p50 / p95 ms | quiet company p50 / p95 ms (1 writer) |`,
      );
      out('| ---: | ---: | ---: |');
      const pct = (list: number[], p: number) =>
        list.length === 0 ? Number.NaN : [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) * p)];
      for (const busyWriters of [0, 4, 8, 32]) {
        const [busy, quiet] = await createCompanies(2);
        const timed = async (id: string, latencies: number[]) => {
          const t = performance.now();
          await append(id, latencies.length);
          latencies.push(performance.now() - t);
        };
        const busyLatencies: number[] = [];
        const quietLatencies: number[] = [];
        let running = true;
        const writers = Array.from({ length: busyWriters }, async () => {
          while (running) await timed(busy, busyLatencies);
        });
        for (let i = 0; i < (quick ? 50 : 200); i++) await timed(quiet, quietLatencies);
        running = false;
        await Promise.all(writers);
        const cell = (l: number[]) => (l.length ? `${fmt(pct(l, 0.5))} / ${fmt(pct(l, 0.95))}` : '–');
        out(`| ${busyWriters} | ${cell(busyLatencies)} | ${cell(quietLatencies)} |`);
        await assertValid(busy);
        await assertValid(quiet);
      }
    }

    if (scenarios.has('4')) {
      out('');
      out('## 4. Verifying 100,000 events');
      const [big] = await createCompanies(1);
      const n = quick ? 20_000 : 100_000;
      let t0 = performance.now();
      await seedAuditChain(owner, big, n - 1, { chunk: 5_000 });
      out(`seeded ${fmt(n)} events as the owner in ${fmt(performance.now() - t0)} ms`);

      const runs: number[] = [];
      let result;
      for (let r = 0; r < 3; r++) {
        t0 = performance.now();
        result = await tenancy.run(systemContext(big), (em) => queries.verify(em));
        runs.push(performance.now() - t0);
      }
      if (!result?.valid || result.checked !== n)
        throw new Error(`unexpected verification: ${JSON.stringify(result)}`);
      const memory = process.memoryUsage().rss / 2 ** 20;
      out(
        `AuditQueryService.verify (batches of 2,000 from the database + hashing): ${runs.map((ms) => `${fmt(ms)} ms`).join(', ')} (best ${fmt(Math.min(...runs))} ms, ${fmt(n / (Math.min(...runs) / 1000))} events/s), rss ${fmt(memory)} MiB`,
      );

      // The pure verifier alone (what `npm run cli -- audit verify` does per line, minus reading the file).
      const records = await tenancy.run(systemContext(big), async (em) =>
        (await em.find(AuditEvent, {}, { orderBy: { seq: 'asc' }, disableIdentityMap: true })).map(
          toAuditRecord,
        ),
      );
      t0 = performance.now();
      const verifier = new ChainVerifier({ fromGenesis: true });
      for (const record of records) verifier.push(record);
      const pure = verifier.finish();
      const pureMs = performance.now() - t0;
      if (!pure.valid) throw new Error('pure verification failed');
      out(
        `ChainVerifier alone on ${fmt(records.length)} in-memory records: ${fmt(pureMs)} ms (${fmt(records.length / (pureMs / 1000))} events/s)`,
      );

      // The offline path: an NDJSON export of the whole chain, verified by `npm run cli -- audit verify`.
      const dir = mkdtempSync(join(tmpdir(), 'tenantry-bench-audit-'));
      const file = join(dir, 'audit.ndjson');
      writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      t0 = performance.now();
      const offline = await verifyNdjsonFile(file);
      const offlineMs = performance.now() - t0;
      if (!offline.valid) throw new Error('offline verification failed');
      out(
        `verifyNdjsonFile (the CLI's offline verifier) on a ${fmt(statSync(file).size / 2 ** 20)} MiB NDJSON export: ${fmt(offlineMs)} ms (${fmt(records.length / (offlineMs / 1000))} events/s)`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await orm?.close(true);
    await owner.end();
    if (!opts.keep) {
      const client = new pg.Client({ connectionString: withDatabase(serverUrl!, 'postgres') });
      await client.connect();
      await client.query(`drop database if exists ${database} with (force)`);
      await client.end();
    }
  }
}

await main();
