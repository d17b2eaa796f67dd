/**
 * `npm run bench:analytics`: the analytics read path on the seeded data set (docs/benchmarks.md, "Analytics").
 * Run `npm run bench:seed` first (or a smaller `-- --companies 20 --runs 1000 --big 100000`).
 *
 * Rebuilds the run rollups (`analytics backfill`) of the 100,000-run tenant `bench-big` and of a 1,000-run tenant,
 * then times, for each, `AnalyticsService.runs` — the 90-day daily series in UTC and in Europe/Berlin, and the
 * same with `templateId` — exactly as the route runs it (one transaction of the company as `tenantry_app` under
 * row-level security, the series statement, the percentiles), sequentially, `--iterations` times after a warm-up.
 * Prints p50 / p99 (ms) per tenant, and how long each backfill took. HTTP and authentication are not included:
 * they cost the same for every route (see the other scenarios).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { AnalyticsService } from '../src/analytics/analytics.service.js';
import type { AnalyticsRunsQueryDto } from '../src/analytics/dto/analytics.dto.js';
import { backfillRunRollups } from '../src/analytics/run-rollups-backfill.js';
import { buildOrmConfig } from '../src/database/orm.config.js';
import { deriveAppUrl } from '../src/database/urls.js';
import { systemContext } from '../src/tenancy/request-store.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { ScopedReader } from '../src/tenancy/scoped-reader.js';
import { BENCH_APP_PASSWORD, BENCH_DATABASE_URL, say } from './lib/common.js';
import type { CardsService } from '../src/boards/cards.service.js';
import type { WikiService } from '../src/wiki/wiki.service.js';

const noCounter: unknown = { count: () => Promise.resolve(0) };

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    // Keep the rollups a previous run built (the backfill of 100,000 runs takes a minute or two).
    'skip-backfill': { type: 'boolean', default: false },
  },
});
const ITERATIONS = Number(args.iterations);
const WARMUP = Number(args.warmup);

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function main(): Promise<void> {
  const owner = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await owner.connect();
  const tenants = await owner.query<{ id: string; slug: string; runs: number; template: string }>(
    `select c.id, c.slug, count(r.id)::int as runs,
       (select template_ref_id::text from runs x where x.company_id = c.id group by 1 order by count(*) desc limit 1) as template
     from companies c join runs r on r.company_id = c.id
     where c.slug in ('bench-big', 'bench-00001') group by c.id, c.slug order by count(r.id) desc`,
  );
  await owner.end();
  const rollupRows = async (companyId: string): Promise<number> => {
    const c = new pg.Client({ connectionString: BENCH_DATABASE_URL });
    await c.connect();
    const r = await c.query<{ n: number }>(
      'select count(*)::int as n from analytics_run_rollups where company_id = $1',
      [companyId],
    );
    await c.end();
    return r.rows[0]?.n ?? 0;
  };
  const appUrl = deriveAppUrl(BENCH_DATABASE_URL, undefined, BENCH_APP_PASSWORD);
  const orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax: 2 }));
  try {
    const tenancy = new TenancyService(orm);
    const reader = new ScopedReader(orm);
    const built = new Map<string, { seconds: number; rows: number }>();
    for (const tenant of tenants.rows) {
      const started = performance.now();
      const rows = args['skip-backfill']
        ? await rollupRows(tenant.id)
        : (await backfillRunRollups(tenancy, tenant.id)).inserted;
      built.set(tenant.id, {
        seconds: args['skip-backfill'] ? NaN : (performance.now() - started) / 1000,
        rows,
      });
    }
    const to = new Date();
    const from = new Date(to.getTime() - 90 * 86_400_000);
    const base: AnalyticsRunsQueryDto = { from: from.toISOString(), to: to.toISOString(), interval: 'day' };
    const cases: [string, (t: { template: string }) => AnalyticsRunsQueryDto][] = [
      ['90 days, daily, UTC', () => base],
      ['90 days, daily, Europe/Berlin', () => ({ ...base, timezone: 'Europe/Berlin' })],
      ['90 days, daily, one template', (t) => ({ ...base, templateId: t.template })],
      ['90 days, daily, Asia/Kolkata', () => ({ ...base, timezone: 'Asia/Kolkata' })],
      [
        '7 days, hourly, Europe/Berlin',
        () => ({
          ...base,
          from: new Date(to.getTime() - 7 * 86_400_000).toISOString(),
          interval: 'hour',
          timezone: 'Europe/Berlin',
        }),
      ],
    ];
    say(`| series | tenant | runs | backfill s | rollup rows | p50 ms | p99 ms |`);
    say(`| --- | --- | ---: | ---: | ---: | ---: | ---: |`);
    for (const [label, queryOf] of cases) {
      // The tenants alternate call by call (A B A B), so the machine's load weighs on both alike.
      const times = new Map<string, number[]>(tenants.rows.map((t) => [t.id, []]));
      for (let i = 0; i < WARMUP + ITERATIONS; i++) {
        for (const tenant of tenants.rows) {
          await tenancy.run(systemContext(tenant.id), async (em) => {
            // Only the run series is measured: the usage counters (wiki, cards) are not called.
            const service = new AnalyticsService(
              em,
              noCounter as WikiService,
              noCounter as CardsService,
              reader,
            );
            const query = queryOf(tenant);
            const t0 = performance.now();
            const series = await service.runs(query);
            if (i >= WARMUP) times.get(tenant.id)?.push(performance.now() - t0);
            if (series.buckets.length < 90 && query.interval !== 'hour')
              throw new Error(`only ${series.buckets.length} buckets`);
          });
        }
      }
      for (const tenant of tenants.rows) {
        const sorted = (times.get(tenant.id) ?? []).sort((a, b) => a - b);
        const b = built.get(tenant.id);
        say(
          `| ${label} | ${tenant.slug} | ${tenant.runs.toLocaleString('en-US')} | ${b && !Number.isNaN(b.seconds) ? b.seconds.toFixed(2) : '–'} | ${(b?.rows ?? 0).toLocaleString('en-US')} | ${percentile(sorted, 0.5).toFixed(2)} | ${percentile(sorted, 0.99).toFixed(2)} |`,
        );
      }
    }
  } finally {
    await orm.close(true);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
