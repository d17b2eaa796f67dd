/**
 * Wiki search benchmark (`npm run bench:wiki`; issue 15 asks for p50 ≤ 15 ms for a company with 10,000 pages of
 * ~2 KB in a table holding 1,000 such companies: `--companies 1000 --pages 10000`, which seeds ~20 GB).
 *
 * Against the PostgreSQL server of DATABASE_URL it creates a scratch database, migrates it, seeds `--companies`
 * companies × `--pages` pages (bodies of `--words` words drawn from a Zipf-like vocabulary, so some words are
 * common and most are rare) as the owner, ANALYZEs, then measures the real search path minus HTTP:
 * `searchWikiPages` through `ScopedReader` (connected as `tenantry_app`, inside `TenancyService.run` for one
 * company, like a request), `--runs` times per query kind, sequentially, and prints p50 / p99 per kind. Last it
 * prints the plan of the function's inner statement (`EXPLAIN (ANALYZE, BUFFERS)`, as `tenantry_app`, with the
 * company set) for a rare and a common word: it should show a Bitmap Index Scan on `wiki_pages_search_idx` with
 * both `company_id = …` and `search @@ …` as index conditions. Then it drops the database (`--keep` keeps it).
 * `--big N` gives the measured company (the middle one) N pages and every other `--pages`.
 */
import 'reflect-metadata';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { newId } from '../src/common/ids.js';
import { runMigrations } from '../src/database/migrate.js';
import { buildOrmConfig } from '../src/database/orm.config.js';
import { deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { systemContext } from '../src/tenancy/request-store.js';
import { ScopedReader } from '../src/tenancy/scoped-reader.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { searchWikiPages } from '../src/tenancy/wiki-search.js';
import { TEST_ENV } from '../test/setup/test-env.js';

const { values: opts } = parseArgs({
  options: {
    companies: { type: 'string', default: '20' },
    pages: { type: 'string', default: '1000' },
    words: { type: 'string', default: '300' },
    runs: { type: 'string', default: '200' },
    // The measured company's own page count (default: --pages, like every other company).
    big: { type: 'string' },
    keep: { type: 'boolean', default: false },
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

async function main(): Promise<void> {
  const database = `tenantry_bench_wiki_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl!, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]
    .server_version;
  await admin.end();
  const ownerUrl = withDatabase(serverUrl!, database);
  const appUrl = deriveAppUrl(ownerUrl, undefined, appPassword);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  let orm: MikroORM | undefined;
  try {
    await runMigrations(ownerUrl, appPassword, () => undefined);
    out(`# Wiki search benchmark — ${new Date().toISOString()}`);
    out(
      `node ${process.version}, ${cpus().length} CPU(s), PostgreSQL ${version} on the same machine; ` +
        `${companies} companies × ${pages} pages × ${words} words` +
        (bigPages !== pages ? `, the measured company with ${bigPages} pages` : ''),
    );

    // Seed, one company per statement: bodies of Zipf-distributed words (built in SQL: fast, no round trips).
    const seedStarted = performance.now();
    const ids: string[] = [];
    for (let c = 0; c < companies; c++) {
      const id = newId();
      ids.push(id);
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
    const size = (
      await owner.query<{ rows: string; total: string; index: string; avg: string }>(
        `select (select count(*) from wiki_pages)::text as rows,
                pg_size_pretty(pg_total_relation_size('wiki_pages')) as total,
                pg_size_pretty(pg_relation_size('wiki_pages_search_idx')) as index,
                (select round(avg(octet_length(body)))::text from wiki_pages tablesample system (1)) as avg`,
      )
    ).rows[0];
    out(
      `seeded ${size.rows} pages (≈ ${size.avg} bytes of body each) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; ` +
        `table ${size.total}, search index ${size.index}`,
    );

    orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax: 4 }));
    const tenancy = new TenancyService(orm);
    const reader = new ScopedReader(orm);
    const target = ids[Math.floor(ids.length / 2)];
    const queries: Record<string, string> = {
      'rare word': 'w4321',
      'common word': 'w3',
      'two words': 'w17 w250',
      phrase: '"w1 w2"',
      'word or word': 'w900 or w1800',
      'no hit': 'nosuchword',
    };
    out('');
    out('| query | q | hits (first page) | p50 ms | p99 ms |');
    out('| --- | --- | --- | --- | --- |');
    for (const [kind, q] of Object.entries(queries)) {
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
      out(
        `| ${kind} | \`${q}\` | ${hits} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} |`,
      );
    }

    // The plan of the function's statement, as the application role with the company set.
    const app = new pg.Client({ connectionString: appUrl });
    await app.connect();
    try {
      for (const q of ['w4321', 'w3']) {
        await app.query('begin');
        await app.query(`select set_config('app.company_id', $1, true)`, [target]);
        const plan = await app.query<{ 'QUERY PLAN': string }>(
          `explain (analyze, buffers, costs off)
           select p.id, ts_rank_cd(p.search, q) as hit_rank
             from wiki_pages p, websearch_to_tsquery('english', $2) q
            where p.company_id = $1 and p.search @@ q
            order by hit_rank desc, p.id desc limit 21`,
          [target, q],
        );
        await app.query('commit');
        out('');
        out(`Plan for \`${q}\`:`);
        out('```');
        for (const row of plan.rows) out(row['QUERY PLAN']);
        out('```');
      }
    } finally {
      await app.end();
    }
  } finally {
    await orm?.close(true);
    await owner.end();
    if (!opts.keep) {
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
