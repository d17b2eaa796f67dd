import { performance } from 'node:perf_hooks';
import pg from 'pg';

/**
 * The wiki search data set generated inside PostgreSQL, set-based, as the owner (`bench/wiki-search.ts
 * --sql-seed`): `companies` companies × `pages` pages (the middle company `bigPages`), bodies of `words` words
 * drawn like the per-company seed of `bench/wiki-search.ts` (word i with probability ln((i+2)/(i+1)) / ln(5000):
 * `w0`…`w9` in almost every page, `w4321` in ~1 % of them), so that a rare, a common word and a phrase mean the
 * same in both. What makes it fast enough for 1,000 × 10,000 pages:
 *
 * - The bodies come from a pool of distinct random bodies (as many as the largest company has pages, at most
 *   20,000) generated once; page g of company k takes body (g + 7919 k) mod pool, so no company has two equal
 *   bodies and every company has the same distribution. Drawing 470 random words per page is ~0.35 ms, as much
 *   as the `to_tsvector` of the generated column, which no insert can skip.
 * - The load runs with the foreign-key triggers off (`session_replication_role = replica`: every company id is
 *   one just inserted, every parent null) and without the indexes that are not referenced by a foreign key (the
 *   GIN index, the primary key, `(company_id, slug)`, `(company_id, parent_id, title)`); they are built after the
 *   load from their own definitions (`pg_get_indexdef` / `pg_get_constraintdef`, as migrated), the GIN index on
 *   one connection while the others build the b-trees. `(company_id, id)` stays: ids are UUID v7 in load order,
 *   so it only ever appends.
 * - `parallel` connections load disjoint chunks of companies; then `vacuum (analyze)` (statistics and the
 *   visibility map, as autovacuum would leave them).
 *
 * Pages of one company are stored together (the load goes company by company): the best case for a search's
 * heap reads. Needs a superuser (`session_replication_role`).
 */
export interface WikiSeedOptions {
  companies: number;
  pages: number;
  bigPages: number;
  words: number;
  /** Connections loading (and building indexes) at once. */
  parallel: number;
  /** `maintenance_work_mem` of the index builds (GIN builds flush their entries each time it fills). */
  maintenanceWorkMem: string;
  /**
   * Stop taking chunks of companies to load after this many minutes (the chunks under way finish): the companies
   * not loaded are deleted, so the set is the first `loaded` companies, each with `pages` pages, and the measured
   * company the middle one of those. Needs `bigPages === pages`. Default: load them all.
   */
  loadMinutes?: number;
  log: (line: string) => void;
}

export interface WikiSeedReport {
  /** Seconds per phase, in order. */
  phases: Array<[string, number]>;
  /** Companies seeded (fewer than asked when `loadMinutes` ran out). */
  companies: number;
}

const VOCABULARY = 5000;
const MAX_POOL = 20_000;
/** Companies per insert statement (progress and the unit of parallel work). */
const CHUNK = 10;

type Index = { name: string; ddl: string; constraint?: string };

/**
 * What to drop before the load and build after it: the indexes of `wiki_pages` that no foreign key references,
 * each from its own definition. A primary key or unique constraint is rebuilt as its index (`create unique index`,
 * which may run beside the other builds) and attached once all are built (`add constraint … using index`: instant,
 * but it locks the table, so it would wait for the GIN build).
 */
async function rebuildPlan(db: pg.Pool): Promise<{ drop: string[]; create: Index[] }> {
  const { rows } = await db.query<{
    name: string;
    def: string;
    constraint: string | null;
    kind: string | null;
  }>(
    `select i.relname as name, pg_get_indexdef(i.oid) as def, c.conname as constraint,
            case c.contype when 'p' then 'primary key' when 'u' then 'unique' end as kind
       from pg_index x
       join pg_class i on i.oid = x.indexrelid
       left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid
      where x.indrelid = 'wiki_pages'::regclass
        and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = x.indexrelid)`,
  );
  return {
    drop: rows.map((r) =>
      r.constraint ? `alter table wiki_pages drop constraint "${r.constraint}"` : `drop index "${r.name}"`,
    ),
    create: rows.map((r) => ({
      name: r.name,
      ddl: r.def,
      constraint: r.constraint
        ? `alter table wiki_pages add constraint "${r.constraint}" ${r.kind} using index "${r.name}"`
        : undefined,
    })),
  };
}

/** Seeds an empty, migrated database (owner URL). The measured company is the one of rank ⌊companies / 2⌋. */
export async function sqlSeedWiki(ownerUrl: string, o: WikiSeedOptions): Promise<WikiSeedReport> {
  const phases: Array<[string, number]> = [];
  const db = new pg.Pool({ connectionString: ownerUrl, max: Math.max(2, o.parallel) });
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    phases.push([phase, seconds]);
    o.log(`${phase}: ${seconds.toFixed(1)} s`);
    return result;
  };
  if (!/^\d+[kMG]B$/.test(o.maintenanceWorkMem))
    throw new Error(`Not a memory size: ${o.maintenanceWorkMem}`);
  if (o.loadMinutes !== undefined && o.bigPages !== o.pages)
    throw new Error('A load time limit needs every company of the same size (no --big)');
  const big = Math.floor(o.companies / 2);
  const poolSize = Math.min(MAX_POOL, Math.max(o.pages, o.bigPages));
  try {
    await timed(`pool of ${poolSize} bodies`, async () => {
      await db.query(`create unlogged table bench_wiki_bodies (n int primary key, body text not null)`);
      await db.query(
        `insert into bench_wiki_bodies
         select g - 1, (select string_agg('w' || floor(exp(random() * ln(${VOCABULARY})) - 1)::int, ' ')
                          from generate_series(1, $2::int + g * 0))
           from generate_series(1, $1::int) g`,
        [poolSize, o.words],
      );
    });
    await timed(`${o.companies} companies`, async () => {
      // Ids: UUID v7 (a millisecond timestamp, then random bits), one millisecond apart in load order.
      await db.query(`create unlogged table bench_wiki_companies (k int primary key, id uuid, pages int)`);
      await db.query(
        `insert into bench_wiki_companies
         select k, (lpad(to_hex(1700000000000 + k), 12, '0') || '7' || substr(md5(random()::text), 1, 3) || '8'
                    || substr(md5(random()::text), 1, 15))::uuid,
                case when k = $2 then $3::int else $4::int end
           from generate_series(0, $1::int - 1) k`,
        [o.companies, big, o.bigPages, o.pages],
      );
      await db.query(
        `insert into accounts (id, name) select id, 'Bench account ' || k from bench_wiki_companies`,
      );
      await db.query(
        `insert into companies (id, name, slug, account_id)
         select id, 'Bench ' || k, 'bench-wiki-' || k || '-' || right(id::text, 8), id from bench_wiki_companies`,
      );
    });
    const plan = await rebuildPlan(db);
    for (const ddl of plan.drop) await db.query(ddl);
    const chunks: Array<[number, number]> = [];
    for (let k = 0; k < o.companies; k += CHUNK) chunks.push([k, Math.min(o.companies, k + CHUNK) - 1]);
    const total = (o.companies - 1) * o.pages + o.bigPages;
    let done = 0;
    let loaded = 0;
    const loadStarted = performance.now();
    const deadline = o.loadMinutes === undefined ? Infinity : loadStarted + o.loadMinutes * 60_000;
    const nextChunk = () => (performance.now() < deadline ? chunks.shift() : undefined);
    await timed(
      `load ${total} pages (${o.parallel} connections` +
        (o.loadMinutes === undefined ? ')' : `, at most ${o.loadMinutes} min)`),
      () =>
        Promise.all(
          Array.from({ length: o.parallel }, async () => {
            const conn = await db.connect();
            try {
              await conn.query(
                `set session_replication_role = replica; set synchronous_commit = off; set work_mem = '256MB'`,
              );
              for (let chunk = nextChunk(); chunk; chunk = nextChunk()) {
                const result = await conn.query(
                  `insert into wiki_pages (id, company_id, title, slug, body, version, revision_id, created_by, updated_by)
                 select (lpad(to_hex(1800000000000 + c.k * 100000 + g), 12, '0') || '7'
                          || substr(md5(random()::text), 1, 3) || '9' || substr(md5(random()::text), 1, 15))::uuid,
                        c.id, 'Page ' || g || ' w' || (g % ${VOCABULARY}), 'page-' || g, b.body,
                        1, gen_random_uuid(), 'bench', 'bench'
                   from bench_wiki_companies c
                   cross join lateral generate_series(1, c.pages) g
                   join bench_wiki_bodies b on b.n = (g + c.k * 7919) % $3
                  where c.k between $1 and $2`,
                  [chunk[0], chunk[1], poolSize],
                );
                done += result.rowCount ?? 0;
                loaded += chunk[1] - chunk[0] + 1;
                const seconds = (performance.now() - loadStarted) / 1000;
                o.log(
                  `  ${done} / ${total} pages, ${seconds.toFixed(0)} s, ` +
                    `${(done / seconds).toFixed(0)} pages/s, ~${((total - done) / (done / seconds) / 60).toFixed(1)} min left`,
                );
              }
            } finally {
              conn.release();
            }
          }),
        ),
    );
    if (loaded < o.companies) {
      // Out of time: chunks are taken in order and every one taken finished, so companies 0 … loaded - 1 have
      // their pages and the others none.
      await db.query(
        `delete from companies where id in (select id from bench_wiki_companies where k >= $1)`,
        [loaded],
      );
      await db.query(`delete from accounts where id in (select id from bench_wiki_companies where k >= $1)`, [
        loaded,
      ]);
      o.log(
        `  load time limit (${o.loadMinutes} min) reached: ${loaded} of ${o.companies} companies loaded, the rest deleted`,
      );
    }
    // The GIN index first, alone on its connection; the b-trees on the others meanwhile.
    const ordered = [...plan.create].sort(
      (a, b) => Number(/using gin/i.test(b.ddl)) - Number(/using gin/i.test(a.ddl)),
    );
    await timed('indexes', () =>
      Promise.all(
        Array.from({ length: Math.max(1, Math.min(o.parallel, ordered.length)) }, async () => {
          const conn = await db.connect();
          try {
            await conn.query(`set maintenance_work_mem = '${o.maintenanceWorkMem}'`);
            for (let index = ordered.shift(); index; index = ordered.shift()) {
              const started = performance.now();
              await conn.query(index.ddl);
              o.log(`  ${index.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
            }
          } finally {
            conn.release();
          }
        }),
      ),
    );
    // Attaching an index as a constraint locks the table: only once every build is done.
    for (const index of plan.create) if (index.constraint) await db.query(index.constraint);
    await timed('vacuum (analyze)', async () => {
      await db.query(`drop table bench_wiki_bodies, bench_wiki_companies`);
      await db.query(`vacuum (analyze) wiki_pages`);
      await db.query(`analyze companies, accounts`);
    });
    return { phases, companies: loaded };
  } finally {
    await db.end();
  }
}
