/**
 * Wiki search benchmark (`npm run bench:wiki`; issue 15 asks for p50 ≤ 15 ms for a company with 10,000 pages of
 * ~2 KB in a table holding 1,000 such companies: `--companies 1000 --pages 10000 --words 470 --sql-seed`, ~20 GB
 * of bodies).
 *
 * Against the PostgreSQL server of DATABASE_URL it creates a scratch database, migrates it, seeds `--companies`
 * companies × `--pages` pages (bodies of `--words` words drawn from a Zipf-like vocabulary, so some words are
 * common and most are rare) as the owner, ANALYZEs, then measures the real search path minus HTTP:
 * `searchWikiPages` through `ScopedReader` (connected as `tenantry_app`, inside `TenancyService.run` for one
 * company, like a request), `--runs` times per query kind, sequentially, and prints p50 / p99 per kind. Last it
 * prints the plans of the function's own statements for a rare and a common word (`auto_explain` of the nested
 * statements, `ANALYZE` and `BUFFERS`, run as the application role with the company set; needs a superuser
 * DATABASE_URL): they should show a Bitmap Index Scan on `wiki_pages_search_idx` with both `company_id = …` and
 * `search @@ …` as index conditions. Then it drops the database (`--keep` keeps it). `--runs 0` only seeds.
 *
 * `--big N` gives the measured company (the middle one) N pages and every other `--pages`. `--sql-seed` seeds with
 * set-based SQL, indexes built after the load (bench/lib/wiki-seed.ts; `--parallel` connections,
 * `--maintenance-work-mem` for the index builds, `--load-minutes M` to stop loading after M minutes and keep the
 * companies loaded by then, a prefix of them, the measured company the middle one of those); the default seeds
 * one company per statement with the indexes in place. `--database NAME` measures an existing database on the same server that either seed left (`--keep`):
 * it migrates it (so a new migration is measured on the same data) and neither seeds nor drops it.
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { newId } from '../src/common/ids.js';
import { runMigrations } from '../src/database/migrate.js';
import { buildOrmConfig } from '../src/database/orm.config.js';
import { appRoleFor, deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { systemContext } from '../src/tenancy/request-store.js';
import { ScopedReader } from '../src/tenancy/scoped-reader.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { searchWikiPages } from '../src/tenancy/wiki-search.js';
import { TEST_ENV } from '../test/setup/test-env.js';
import { sqlSeedWiki } from './lib/wiki-seed.js';

const { values: opts } = parseArgs({
  options: {
    companies: { type: 'string', default: '20' },
    pages: { type: 'string', default: '1000' },
    words: { type: 'string', default: '300' },
    runs: { type: 'string', default: '200' },
    // The measured company's own page count (default: --pages, like every other company).
    big: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'sql-seed': { type: 'boolean', default: false },
    parallel: { type: 'string', default: '2' },
    'maintenance-work-mem': { type: 'string', default: '1GB' },
    // --sql-seed: stop loading after this many minutes and keep the companies loaded by then.
    'load-minutes': { type: 'string' },
    database: { type: 'string' },
  },
});
const companies = Number(opts.companies);
const pages = Number(opts.pages);
const bigPages = opts.big ? Number(opts.big) : pages;
const words = Number(opts.words);
const runs = Number(opts.runs);

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  process.stderr.write(
    'Set DATABASE_URL to a PostgreSQL server (owner/superuser), e.g. postgres://postgres@127.0.0.1:5432/postgres\n',
  );
  process.exit(2);
}
const appPassword = TEST_ENV.DATABASE_APP_PASSWORD;
const out = (line: string) => process.stdout.write(`${line}\n`);

/** 5,000 words; word i is drawn with weight ~ 1/(i+1) (Zipf), so `w0`…`w9` are in most pages, `w4000` in few. */
const VOCABULARY = 5000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The queries measured, by kind (the hostile one: quotes, operators and words, 10,000 characters). */
const QUERIES: Record<string, string> = {
  'rare word': 'w4321',
  'common word': 'w3',
  'two words': 'w17 w250',
  phrase: '"w1 w2"',
  'word or word': 'w900 or w1800',
  'no hit': 'nosuchword',
  hostile: '"w1 -w2 or (w3 | !w4 <-> w5:* \'w6\' & -"'.repeat(300).slice(0, 10_000),
};

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** One company per statement, the indexes in place (the original seed). Returns the companies' ids. */
async function seedPerCompany(owner: pg.Pool): Promise<void> {
  for (let c = 0; c < companies; c++) {
    const id = newId();
    // Each company its own account (same id), as registration would make.
    await owner.query('insert into accounts (id, name) values ($1, $2)', [id, `Bench account ${id}`]);
    await owner.query('insert into companies (id, name, slug, account_id) values ($1, $2, $3, $1)', [
      id,
      `Bench ${c}`,
      `bench-wiki-${c}-${id.slice(-8)}`,
    ]);
    await owner.query(
      `insert into wiki_pages (id, company_id, title, slug, body, version, revision_id, created_by, updated_by)
       select gen_random_uuid(), $1, 'Page ' || g || ' w' || (g % ${VOCABULARY}), 'page-' || g,
              (select string_agg('w' || floor(exp(random() * ln(${VOCABULARY})) - 1)::int, ' ')
                 from generate_series(1, $3::int + g * 0)),
              1, gen_random_uuid(), 'bench', 'bench'
         from generate_series(1, $2::int) g`,
      [id, c === Math.floor(companies / 2) ? bigPages : pages, words],
    );
  }
  await owner.query('vacuum analyze wiki_pages');
}

/** The measured company: the middle one of the seed (`bench-wiki-<k>-…`, k = ⌊companies / 2⌋). */
async function measuredCompany(owner: pg.Pool): Promise<{ id: string; pages: string }> {
  const { rows } = await owner.query<{ id: string; pages: string }>(
    `with n as (select count(*)::int as n from companies where slug like 'bench-wiki-%')
     select c.id, (select count(*) from wiki_pages p where p.company_id = c.id)::text as pages
       from companies c, n where c.slug like 'bench-wiki-' || (n.n / 2) || '-%'`,
  );
  if (rows.length !== 1) throw new Error('No measured company (bench-wiki-<n/2>-…) in this database');
  return rows[0];
}

async function describeData(owner: pg.Pool, target: { id: string; pages: string }): Promise<void> {
  const size = (
    await owner.query<Record<string, string>>(
      `select (select reltuples::bigint from pg_class where oid = 'wiki_pages'::regclass)::text as rows,
              (select count(*) from companies where slug like 'bench-wiki-%')::text as companies,
              pg_size_pretty(pg_table_size('wiki_pages')) as heap_and_toast,
              pg_size_pretty(pg_relation_size('wiki_pages_search_idx')) as search_index,
              pg_size_pretty(pg_indexes_size('wiki_pages')) as all_indexes,
              pg_size_pretty(pg_total_relation_size('wiki_pages')) as total,
              round(avg(octet_length(p.body)))::text as body_bytes, round(avg(pg_column_size(p.search)))::text as vector_bytes
         from wiki_pages p where p.company_id = $1`,
      [target.id],
    )
  ).rows[0];
  out(
    `data: ≈ ${size.rows} pages (estimate) of ${size.companies} companies; the measured company ${target.pages} pages (≈ ` +
      `${size.body_bytes} bytes of body, vector ${size.vector_bytes} bytes); wiki_pages ${size.total} (heap and TOAST ` +
      `${size.heap_and_toast}, indexes ${size.all_indexes}, of which search ${size.search_index})`,
  );
}

async function measure(appUrl: string, target: string): Promise<void> {
  const orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax: 4 }));
  try {
    const tenancy = new TenancyService(orm);
    const reader = new ScopedReader(orm);
    out('');
    out(`load average before: ${loadAverage()}`);
    out('');
    out('| query | q | hits (first page) | p50 ms | p99 ms |');
    out('| --- | --- | --- | --- | --- |');
    for (const [kind, q] of Object.entries(QUERIES)) {
      const search = () =>
        tenancy.run(systemContext(target), () => searchWikiPages(reader, { text: q, limit: 21, offset: 0 }));
      for (let i = 0; i < 5; i++) await search(); // warm-up (plans, caches)
      const times: number[] = [];
      let hits = 0;
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        hits = (await search()).length;
        times.push(performance.now() - started);
      }
      times.sort((x, y) => x - y);
      const shown = q.length > 40 ? `${q.slice(0, 24)}… (${q.length} chars)` : q;
      out(
        `| ${kind} | \`${shown}\` | ${hits} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} |`,
      );
    }
    out('');
    out(`load average after: ${loadAverage()}`);
  } finally {
    await orm.close(true);
  }
}

/**
 * The plans of the search function's own statements, as run: `auto_explain` of nested statements (loaded by the
 * superuser, then `set role` to the application role, so row-level security applies), after six calls on the same
 * connection (PL/pgSQL then keeps either a custom or a generic plan: the one printed is the one in use).
 */
async function plans(ownerUrl: string, target: string): Promise<void> {
  const conn = new pg.Client({ connectionString: ownerUrl });
  await conn.connect();
  try {
    const notices: string[] = [];
    conn.on('notice', (n) => notices.push(n.message ?? ''));
    const role = `set role "${appRoleFor(ownerUrl)}"`;
    // auto_explain's settings are a superuser's: set them before taking the application role, and between calls.
    await conn.query(`load 'auto_explain'`);
    await conn.query(
      `set auto_explain.log_analyze = on; set auto_explain.log_buffers = on;
       set auto_explain.log_nested_statements = on; set auto_explain.log_min_duration = -1`,
    );
    for (const q of ['w4321', 'w3']) {
      const call = () =>
        conn.query(
          `select * from tenant_wiki_search(set_config('app.company_id', $1::text, false)::uuid, $2, 21, 0)`,
          [target, q],
        );
      await conn.query(role);
      for (let i = 0; i < 6; i++) await call();
      await conn.query(
        `reset role; set auto_explain.log_min_duration = 0; set client_min_messages = log; ${role}`,
      );
      notices.length = 0;
      await call();
      await conn.query(
        `reset role; set auto_explain.log_min_duration = -1; set client_min_messages = notice`,
      );
      out('');
      out(`Plans for \`${q}\` (the function's statements, then the call):`);
      out('```');
      for (const notice of notices.filter((n) => /wiki_pages|tenant_wiki_search/.test(n))) {
        const lines = notice.split('\n');
        const root = lines.findIndex((l) => /\(actual time=|\(never executed\)/.test(l));
        out(lines[0]);
        for (const line of root < 0 ? lines.slice(1) : lines.slice(root)) out(line);
      }
      out('```');
    }
  } finally {
    await conn.end();
  }
}

async function main(): Promise<void> {
  const existing = opts.database;
  const database = existing ?? `tenantry_bench_wiki_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl!, 'postgres') });
  await admin.connect();
  if (!existing) await admin.query(`create database ${database}`);
  const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]
    .server_version;
  await admin.end();
  const ownerUrl = withDatabase(serverUrl!, database);
  const appUrl = deriveAppUrl(ownerUrl, undefined, appPassword);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  try {
    await runMigrations(ownerUrl, appPassword, existing ? out : () => undefined);
    out(`# Wiki search benchmark — ${new Date().toISOString()}`);
    out(`node ${process.version}, ${cpus().length} CPU(s), PostgreSQL ${version} on the same machine`);
    if (!existing) {
      out(
        `seeding ${companies} companies × ${pages} pages × ${words} words` +
          (bigPages !== pages ? `, the measured company with ${bigPages} pages` : '') +
          (opts['sql-seed'] ? ' (--sql-seed)' : '') +
          `; load average ${loadAverage()}`,
      );
      const started = performance.now();
      if (opts['sql-seed']) {
        await sqlSeedWiki(ownerUrl, {
          companies,
          pages,
          bigPages,
          words,
          parallel: Number(opts.parallel),
          maintenanceWorkMem: opts['maintenance-work-mem'],
          loadMinutes: opts['load-minutes'] === undefined ? undefined : Number(opts['load-minutes']),
          log: out,
        });
      } else {
        await seedPerCompany(owner);
      }
      out(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${loadAverage()}`);
    }
    const target = await measuredCompany(owner);
    await describeData(owner, target);
    if (runs > 0) {
      await measure(appUrl, target.id);
      await plans(ownerUrl, target.id);
    }
  } finally {
    await owner.end();
    if (!opts.keep && !existing) {
      const drop = new pg.Client({ connectionString: withDatabase(serverUrl!, 'postgres') });
      await drop.connect();
      await drop.query(`drop database if exists ${database} with (force)`);
      await drop.end();
    } else {
      out(`kept database ${database}`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
