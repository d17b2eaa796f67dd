/**
 * `npm run bench:seed`: the benchmark data set (docs/benchmarks.md, "Full stack against a bare baseline").
 *
 * Creates (drops first) the database named by DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/
 * tenantry_bench`), builds it with the real migrations, and fills it as the database owner:
 *
 * - `--companies` companies (default 1,000), each with an owner, an admin, a manager and a member, five
 *   connectors, its audit chain (a valid hash chain: `company.created`, three `member.joined`, five
 *   `connector.created`), and `--runs` runs (default 1,000) spread over the last 90 days;
 * - with `--big N` (default 100,000), one more company (slug `bench-big`) with N runs, for the per-tenant
 *   scaling scenarios.
 *
 * Runs are realistic: each snapshots one of the 45 catalog templates (definition and a schema-shaped input) and
 * stands in one of its plausible states (succeeded, failed, parked at an approval, rejected, cancelled), with
 * its `run_steps` rows (outputs, errors, attempts) and verdicts. The rows are generated inside PostgreSQL
 * (`generate_series`, one statement per chunk of runs) from a few hundred template/state profiles built here,
 * so a million runs take about a minute. Run timelines (`run_events`) are not seeded: no benchmarked read
 * touches them.
 *
 * Options: `-- --companies 1000 --runs 1000 --big 100000`; `--scaling` seeds instead the two databases of the
 * tenant-count comparison, `<name>_t1k` (1,000 companies × 100 runs) and `<name>_t10k` (10,000 × 100).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { hash } from '@node-rs/argon2';
import pg from 'pg';
import { loadCatalog } from '../src/templates/catalog.js';
import type { JsonObject, JsonValue, TemplateDefinition } from '../src/templates/definition.js';
import { runMigrations } from '../src/database/migrate.js';
import { withDatabase } from '../src/database/urls.js';
import { seedAuditChain } from '../test/harness/audit-chain.js';
import {
  BENCH_APP_PASSWORD,
  BENCH_DATABASE_URL,
  BENCH_PASSWORD,
  CONNECTOR_TOOLS,
  say,
} from './lib/common.js';

const { values: args } = parseArgs({
  options: {
    companies: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1000' },
    big: { type: 'string', default: '100000' },
    scaling: { type: 'boolean', default: false },
  },
});

/** Runs per INSERT statement. */
const CHUNK = 25_000;
const DAYS = 90;

// ---------------------------------------------------------------------------------------------------------------
// Profiles: (template, state) pairs, each with the columns and step rows a run in that state has.

interface StepRow {
  step_index: number;
  step_id: string;
  kind: string;
  status: string;
  attempts: number;
  output: JsonValue | null;
  error: JsonObject | null;
}

interface Profile {
  t: number;
  p: number;
  status: string;
  current_step_index: number;
  parked_step_id: string | null;
  parked_min_role: string | null;
  parked_prompt: string | null;
  failure_reason: string | null;
  finished: boolean;
  steps: StepRow[];
  verdicts: { step_id: string; decision: string; comment: string }[];
}

/** A plausible value for a JSON Schema (no validation is needed: the seed writes as the owner). */
function sample(schema: unknown, name: string, n: number): JsonValue {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum[n % s.enum.length] as JsonValue;
  if (s.default !== undefined) return s.default as JsonValue;
  switch (s.type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = new Set((s.required ?? []) as string[]);
      const out: JsonObject = {};
      Object.keys(props).forEach((key, i) => {
        if (required.has(key) || (i + n) % 2 === 0) out[key] = sample(props[key], key, n + i);
      });
      return out;
    }
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 1;
      return Array.from({ length: Math.max(min, 1 + (n % 3)) }, (_, i) => sample(s.items, name, n + i));
    }
    case 'integer':
      return Math.max(typeof s.minimum === 'number' ? s.minimum : 1, (n * 7) % 90) + 1;
    case 'number':
      return Math.round(((n * 137.5) % 9_000) + 10) / 1;
    case 'boolean':
      return n % 2 === 0;
    default:
      if (s.format === 'email' || /email/i.test(name)) return `${name.toLowerCase()}.${n}@example.com`;
      if (s.format === 'date' || /date|on$/i.test(name))
        return `2026-${String(1 + (n % 12)).padStart(2, '0')}-15`;
      if (s.format === 'uri' || /url$/i.test(name)) return `https://files.example.com/${name}/${n}`;
      return `${name}-${1000 + n}`.slice(0, typeof s.maxLength === 'number' ? s.maxLength : 64);
  }
}

/** What a tool step answered: a small, varied object. */
function toolOutput(toolId: string, n: number): JsonValue {
  return {
    ok: true,
    tool: toolId,
    reference: `${toolId.split('.')[0].toUpperCase()}-${100000 + n * 37}`,
    status: ['completed', 'accepted', 'recorded'][n % 3],
    items: Array.from({ length: 1 + (n % 3) }, (_, i) => ({
      id: `item-${n}-${i}`,
      amount: (n * 13 + i) % 500,
    })),
  };
}

const STATES = [
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'parked',
  'rejected',
  'cancelled',
] as const;

function profilesOf(t: number, def: TemplateDefinition): Profile[] {
  const approvalAt = def.steps.findIndex((s) => s.kind === 'approval');
  return STATES.map((state, p): Profile => {
    const steps: StepRow[] = [];
    const verdicts: Profile['verdicts'] = [];
    const base: Profile = {
      t,
      p,
      status: state,
      current_step_index: 0,
      parked_step_id: null,
      parked_min_role: null,
      parked_prompt: null,
      failure_reason: null,
      finished: state !== 'parked',
      steps,
      verdicts,
    };
    const done = (i: number) => {
      const step = def.steps[i];
      if (step.kind === 'tool') {
        steps.push({
          step_index: i,
          step_id: step.id,
          kind: 'tool',
          status: 'succeeded',
          attempts: 1 + (p % 2),
          output: toolOutput(step.toolId, t * 10 + p),
          error: null,
        });
      } else {
        steps.push({
          step_index: i,
          step_id: step.id,
          kind: 'approval',
          status: 'approved',
          attempts: 1,
          output: null,
          error: null,
        });
        verdicts.push({
          step_id: step.id,
          decision: 'approve',
          comment: 'Checked against the policy; approved.',
        });
      }
    };
    const stopAt = state === 'succeeded' || approvalAt < 0 ? def.steps.length : approvalAt;
    if (state === 'failed') {
      const i = def.steps.findIndex((s) => s.kind === 'tool');
      for (let k = 0; k < i; k++) done(k);
      steps.push({
        step_index: i,
        step_id: def.steps[i].id,
        kind: 'tool',
        status: 'failed',
        attempts: 3,
        output: null,
        error: { reason: 'endpoint_error', message: 'The endpoint answered 502 Bad Gateway', status: 502 },
      });
      return {
        ...base,
        current_step_index: i,
        failure_reason: `Step ${def.steps[i].id} failed: the endpoint answered 502 Bad Gateway`,
      };
    }
    if (state === 'cancelled') {
      steps.push({
        step_index: 0,
        step_id: def.steps[0].id,
        kind: def.steps[0].kind,
        status: 'cancelled',
        attempts: 1,
        output: null,
        error: null,
      });
      return base;
    }
    for (let k = 0; k < stopAt; k++) done(k);
    if (state === 'succeeded' || approvalAt < 0) {
      return { ...base, status: 'succeeded', finished: true, current_step_index: def.steps.length };
    }
    const approval = def.steps[approvalAt];
    if (approval.kind !== 'approval') throw new Error('unreachable');
    if (state === 'parked') {
      steps.push({
        step_index: approvalAt,
        step_id: approval.id,
        kind: 'approval',
        status: 'waiting',
        attempts: 1,
        output: null,
        error: null,
      });
      return {
        ...base,
        current_step_index: approvalAt,
        parked_step_id: approval.id,
        parked_min_role: approval.minRole,
        parked_prompt: approval.prompt ?? approval.name,
      };
    }
    steps.push({
      step_index: approvalAt,
      step_id: approval.id,
      kind: 'approval',
      status: 'rejected',
      attempts: 1,
      output: null,
      error: null,
    });
    verdicts.push({
      step_id: approval.id,
      decision: 'reject',
      comment: 'Not justified by the attached documents.',
    });
    return { ...base, current_step_index: approvalAt };
  });
}

// ---------------------------------------------------------------------------------------------------------------

async function seed(ownerUrl: string, companies: number, runsPerCompany: number, big: number): Promise<void> {
  const started = performance.now();
  const database = new URL(ownerUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: withDatabase(ownerUrl, 'postgres') });
  await admin.connect();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  await admin.end();
  await runMigrations(ownerUrl, BENCH_APP_PASSWORD, () => undefined);
  say(`${database}: migrated`);

  const db = new pg.Client({ connectionString: ownerUrl });
  await db.connect();
  const pool = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  try {
    await db.query(`set synchronous_commit = off`);
    // A UUID v7 for a point in time (random bits from md5(random())), as the application's ids are.
    await db.query(`create function pg_temp.uuid7(ts timestamptz) returns uuid language sql volatile as $$
      select (lpad(to_hex(floor(extract(epoch from ts) * 1000)::bigint), 12, '0') || '7'
        || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)
        || substr(md5(random()::text), 1, 15))::uuid $$`);

    const catalog = loadCatalog();
    const profiles = catalog.flatMap((c, t) => profilesOf(t, c.definition));
    await db.query(
      `create temp table bench_templates (t int primary key, id uuid, key text, version int, definition json,
         name text generated always as (definition->>'name') stored,
         step_count int generated always as (json_array_length(definition->'steps')) stored)`,
    );
    await db.query(
      `insert into bench_templates (t, id, key, version, definition) select * from unnest($1::int[], $2::uuid[], $3::text[], $4::int[], $5::json[])`,
      [
        catalog.map((_, t) => t),
        catalog.map((c) => c.id),
        catalog.map((c) => c.definition.key),
        catalog.map((c) => c.definition.version),
        catalog.map((c) => JSON.stringify(c.definition)),
      ],
    );
    await db.query(`create temp table bench_inputs (t int, k int, input json, primary key (t, k))`);
    const inputs = catalog.flatMap((c, t) =>
      [0, 1, 2, 3].map((k) => ({ t, k, input: sample(c.definition.inputSchema, 'input', t * 4 + k) })),
    );
    await db.query(`insert into bench_inputs select * from unnest($1::int[], $2::int[], $3::json[])`, [
      inputs.map((i) => i.t),
      inputs.map((i) => i.k),
      inputs.map((i) => JSON.stringify(i.input)),
    ]);
    await db.query(`create temp table bench_profiles (t int, p int, status text, current_step_index int,
      parked_step_id text, parked_min_role text, parked_prompt text, failure_reason text, finished boolean,
      steps json, verdicts json, primary key (t, p))`);
    await db.query(
      `insert into bench_profiles select * from unnest($1::int[], $2::int[], $3::text[], $4::int[], $5::text[],
        $6::text[], $7::text[], $8::text[], $9::boolean[], $10::json[], $11::json[])`,
      [
        profiles.map((p) => p.t),
        profiles.map((p) => p.p),
        profiles.map((p) => p.status),
        profiles.map((p) => p.current_step_index),
        profiles.map((p) => p.parked_step_id),
        profiles.map((p) => p.parked_min_role),
        profiles.map((p) => p.parked_prompt),
        profiles.map((p) => p.failure_reason),
        profiles.map((p) => p.finished),
        profiles.map((p) => JSON.stringify(p.steps)),
        profiles.map((p) => JSON.stringify(p.verdicts)),
      ],
    );

    // Companies, their four members and five connectors.
    const passwordHash = await hash(BENCH_PASSWORD);
    await db.query(
      `create temp table bench_companies (ord int primary key, id uuid, runs int, created timestamptz)`,
    );
    await db.query(
      `insert into bench_companies
         select g, pg_temp.uuid7(now() - interval '${DAYS + 30} days' + g * interval '1 second'), $2, now()
         from generate_series(1, $1) g`,
      [companies, runsPerCompany],
    );
    if (big > 0) {
      await db.query(
        `insert into bench_companies values (0, pg_temp.uuid7(now() - interval '${DAYS + 31} days'), $1, now())`,
        [big],
      );
    }
    await db.query(`insert into accounts (id, name) select id, 'Bench account ' || ord from bench_companies`);
    await db.query(`insert into companies (id, name, slug, account_id)
      select id, case when ord = 0 then 'Bench Big Co' else 'Bench Co ' || lpad(ord::text, 5, '0') end,
        case when ord = 0 then 'bench-big' else 'bench-' || lpad(ord::text, 5, '0') end, id from bench_companies`);
    await db.query(`create temp table bench_members as
      select c.ord, c.id as company_id, r.role, r.n, pg_temp.uuid7(now() - interval '${DAYS + 20} days') as user_id
      from bench_companies c cross join (values ('owner', 1), ('admin', 2), ('manager', 3), ('member', 4)) r(role, n)`);
    await db.query(`alter table bench_companies add starter uuid, add approver uuid`);
    await db.query(`update bench_companies c set
      starter = (select user_id from bench_members m where m.ord = c.ord and m.role = 'member'),
      approver = (select user_id from bench_members m where m.ord = c.ord and m.role = 'manager')`);
    await db.query(
      `insert into users (id, email, name, password_hash)
       select user_id, 'bench-' || ord || '-' || role || '@bench.tenantry.test',
         initcap(role) || ' of company ' || ord, $1 from bench_members`,
      [passwordHash],
    );
    await db.query(`insert into memberships (id, company_id, user_id, role)
      select pg_temp.uuid7(now() - interval '${DAYS + 20} days'), company_id, user_id, role from bench_members`);
    await db.query(
      `insert into connectors (id, company_id, tool_id, endpoint_url, auth_scheme)
       select pg_temp.uuid7(now() - interval '${DAYS + 10} days'), c.id, t.tool_id,
         'https://tools.' || replace(c.id::text, '-', '') || '.example.com/' || replace(t.tool_id, '.', '/'), 'none'
       from bench_companies c cross join unnest($1::text[]) t(tool_id)`,
      [CONNECTOR_TOOLS],
    );
    say(
      `companies: ${companies}${big > 0 ? ` + 1 big` : ''} with 4 members and ${CONNECTOR_TOOLS.length} connectors each`,
    );

    // Audit chains, built in Node with the application's hash definition.
    const members = (
      await db.query<{ company_id: string; role: string; user_id: string }>(
        `select company_id, role, user_id from bench_members order by ord, n`,
      )
    ).rows;
    const connectors = (
      await db.query<{ company_id: string; id: string; tool_id: string }>(
        `select company_id, id, tool_id from connectors order by company_id, tool_id`,
      )
    ).rows;
    const byCompany = new Map<string, { members: typeof members; connectors: typeof connectors }>();
    for (const m of members) {
      const entry = byCompany.get(m.company_id) ?? { members: [], connectors: [] };
      entry.members.push(m);
      byCompany.set(m.company_id, entry);
    }
    for (const c of connectors) byCompany.get(c.company_id)?.connectors.push(c);
    const ids = [...byCompany.keys()];
    const startAt = new Date(Date.now() - (DAYS + 20) * 86_400_000);
    for (let i = 0; i < ids.length; i += 8) {
      await Promise.all(
        ids.slice(i, i + 8).map((companyId) => {
          const { members: ms, connectors: cs } = byCompany.get(companyId)!;
          const owner = ms[0].user_id;
          return seedAuditChain(pool, companyId, 1 + 3 + cs.length, {
            startAt,
            stepMs: 60_000,
            event: (index) => {
              const actor = { type: 'user' as const, id: owner };
              if (index === 0)
                return {
                  action: 'company.created',
                  actor,
                  target: { type: 'Company', id: companyId },
                  metadata: { slug: 'seeded' },
                };
              if (index <= 3) {
                const m = ms[index];
                return {
                  action: 'member.joined',
                  actor: { type: 'user', id: m.user_id },
                  target: { type: 'Member', id: m.user_id },
                  metadata: { role: m.role, via: 'invitation' },
                };
              }
              const c = cs[index - 4];
              return {
                action: 'connector.created',
                actor,
                target: { type: 'Connector', id: c.id },
                metadata: {
                  toolId: c.tool_id,
                  endpoint: 'https://tools.example.com',
                  authScheme: 'none',
                  hasSecret: false,
                },
              };
            },
          });
        }),
      );
    }
    say(`audit chains: ${ids.length} × ${1 + 3 + CONNECTOR_TOOLS.length} events`);

    // Runs with their step rows and verdicts, chunk by chunk, in PostgreSQL.
    const plan = (
      await db.query<{ ord: number; runs: number }>(`select ord, runs from bench_companies order by ord`)
    ).rows;
    let total = 0;
    let batch: { ord: number; from: number; to: number }[] = [];
    let batchSize = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await insertRuns(db, batch);
      total += batchSize;
      batch = [];
      batchSize = 0;
      process.stdout.write(`\rruns: ${total.toLocaleString('en-US')}`);
    };
    for (const { ord, runs } of plan) {
      for (let from = 1; from <= runs; from += CHUNK) {
        const to = Math.min(runs, from + CHUNK - 1);
        batch.push({ ord, from, to });
        batchSize += to - from + 1;
        if (batchSize >= CHUNK) await flush();
      }
    }
    await flush();
    process.stdout.write('\n');
    await db.query('analyze');
    const sizes = await db.query<{ relname: string; rows: string; size: string }>(
      `select relname, n_live_tup::text as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
       from pg_stat_user_tables where relname in ('runs', 'run_steps', 'run_verdicts', 'audit_events', 'connectors', 'memberships')
       order by pg_total_relation_size(relid) desc`,
    );
    for (const r of sizes.rows)
      say(`  ${r.relname.padEnd(14)} ${Number(r.rows).toLocaleString('en-US').padStart(12)} rows  ${r.size}`);
    say(`${database}: seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await pool.end();
    await db.end();
  }
}

/** Inserts the runs `from..to` of each listed company, with their step rows and verdicts, in one statement. */
async function insertRuns(db: pg.Client, parts: { ord: number; from: number; to: number }[]): Promise<void> {
  await db.query(
    `with src as materialized (
       select pg_temp.uuid7(s.ts) as id, s.ts, s.company_id, s.starter, s.approver, t.id as template_id, t.key,
         t.version, t.name, t.step_count, t.definition, i.input, p.*
       from (
         select c.id as company_id, g,
           now() - interval '1 minute' - (c.runs - g) * (interval '${DAYS} days' / c.runs) as ts,
           (g + c.ord) % 45 as tt, (g / 45 + c.ord) % 10 as pp, g % 4 as kk, c.starter, c.approver
         from unnest($1::int[], $2::int[], $3::int[]) part(ord, g_from, g_to)
         join bench_companies c on c.ord = part.ord
         cross join lateral generate_series(part.g_from, part.g_to) g
       ) s
       join bench_templates t on t.t = s.tt
       join bench_profiles p on p.t = s.tt and p.p = s.pp
       join bench_inputs i on i.t = s.tt and i.k = s.kk
     ),
     ins_runs as (
       insert into runs (id, created_at, updated_at, finished_at, company_id, source, template_ref_id, template_key,
         template_version, template_name, step_count, definition, input, status, current_step_index, started_by, started_by_type,
         started_by_user_id, parked_step_id, parked_min_role, parked_prompt, parked_since, failure_reason)
       select id, ts, ts + interval '90 seconds', case when finished then ts + interval '90 seconds' end, company_id,
         'template', template_id, key, version, name, step_count, definition, input, status, current_step_index, starter::text,
         'user', starter, parked_step_id, parked_min_role, parked_prompt,
         case when parked_step_id is not null then ts + interval '20 seconds' end, failure_reason
       from src
     ),
     ins_steps as (
       insert into run_steps (id, created_at, updated_at, company_id, run_id, step_index, step_id, kind, status,
         attempts, output, error, started_at, finished_at)
       select pg_temp.uuid7(src.ts), src.ts, src.ts + interval '90 seconds', src.company_id, src.id,
         (st->>'step_index')::int, st->>'step_id', st->>'kind', st->>'status', (st->>'attempts')::int,
         case when st->'output' is null or json_typeof(st->'output') = 'null' then null else st->'output' end,
         case when json_typeof(st->'error') = 'object' then (st->'error')::jsonb end,
         src.ts + (st->>'step_index')::int * interval '10 seconds',
         case when st->>'status' <> 'waiting' then src.ts + ((st->>'step_index')::int + 1) * interval '10 seconds' end
       from src cross join lateral json_array_elements(src.steps) st
     )
     insert into run_verdicts (id, created_at, company_id, run_id, step_id, decision, comment, given_by, given_by_user_id)
     select pg_temp.uuid7(src.ts + interval '1 minute'), src.ts + interval '1 minute', src.company_id, src.id,
       v->>'step_id', v->>'decision', v->>'comment', src.approver::text, src.approver
     from src cross join lateral json_array_elements(src.verdicts) v`,
    [parts.map((p) => p.ord), parts.map((p) => p.from), parts.map((p) => p.to)],
  );
}

async function main(): Promise<void> {
  const url = BENCH_DATABASE_URL;
  if (args.scaling) {
    const name = new URL(url).pathname.slice(1);
    await seed(withDatabase(url, `${name}_t1k`), 1_000, 100, 0);
    await seed(withDatabase(url, `${name}_t10k`), 10_000, 100, 0);
    return;
  }
  await seed(url, Number(args.companies), Number(args.runs), Number(args.big));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
