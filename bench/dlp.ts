/**
 * `npm run bench:dlp` (issue 18): what DLP costs.
 *
 * 1. Scanning: a 1 MiB JSON body (prose with numbers, dates, ids, some e-mail addresses, cards, IBANs, keys)
 *    walked with a policy of every detector (email, phone, credit_card, iban, us_ssn, secret and one custom
 *    pattern), action `redact`, and the same text as one 1 MiB string; `--scans` times after a warm-up, p50 /
 *    p99 / max in ms. Target: ≤ 20 ms.
 * 2. Run start: `POST /v1/runs` through the whole application in-process (HTTP via supertest, authentication,
 *    validation, budget, idempotency, the audit event, the job), for a company with a 5-rule policy and one
 *    without, alternating request by request so both see the same machine load; `--starts` each after a
 *    warm-up. Target: ≤ 10 % more with the policy.
 *
 * Against the PostgreSQL server of DATABASE_URL it creates a scratch database, migrates it, and drops it after.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { runMigrations } from '../src/database/migrate.js';
import { appRoleFor, deriveAppUrl, withDatabase } from '../src/database/urls.js';
import { compilePolicy, walk, type DlpRule } from '../src/dlp/dlp-scan.js';
import { TEST_ENV } from '../test/setup/test-env.js';

const { values: opts } = parseArgs({
  options: {
    scans: { type: 'string', default: '50' },
    starts: { type: 'string', default: '150' },
    keep: { type: 'boolean', default: false },
    /** `scan` or `runs`: one part only. */
    only: { type: 'string' },
  },
});
const SCANS = Number(opts.scans);
const STARTS = Number(opts.starts);
const say = (line: string) => process.stdout.write(`${line}\n`);

function stats(samples: number[]): { min: number; p50: number; p99: number; max: number; mean: number } {
  const s = [...samples].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return {
    min: s[0],
    p50: at(0.5),
    p99: at(0.99),
    max: s[s.length - 1],
    mean: s.reduce((x, y) => x + y, 0) / s.length,
  };
}
const ms = (n: number) => n.toFixed(2);

// ------------------------------------------------------------------------------------------------- scanning

const WORDS =
  'the invoice for order 2024-11-03 was approved by finance after review of vendor terms net 30 and the amount 1250.00 EUR plus tax 19 percent ticket 55123 version 4.2.1 see attachment'.split(
    ' ',
  );

/** About `bytes` of JSON: records of prose, with a hit every so often. */
function body(bytes: number): { records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const words = Array.from({ length: 40 }, (_, j) => WORDS[(i * 7 + j * 13) % WORDS.length]);
    if (i % 50 === 0) words.push(`contact${i}@example.com`);
    if (i % 97 === 0) words.push('4111 1111 1111 1111');
    if (i % 131 === 0) words.push('DE89 3704 0044 0532 0130 00');
    if (i % 173 === 0) words.push(`sk_live_${'a1B2c3D4e5F6g7H8i9J0k1L2'}`);
    if (i % 211 === 0) words.push('+44 20 7946 0958');
    const record = {
      id: `rec-${i}`,
      customer: { name: `Customer ${i}`, note: words.join(' ') },
      amount: i * 3,
      tags: ['a', 'b'],
    };
    size += JSON.stringify(record).length + 1;
    records.push(record);
  }
  return { records };
}

function scanning(): void {
  const rules: DlpRule[] = [
    ...(['email', 'phone', 'credit_card', 'iban', 'us_ssn', 'secret'] as const).map((detector) => ({
      detector,
      action: 'redact' as const,
    })),
    { detector: 'custom', action: 'redact', pattern: 'ACME-[0-9]{6}' },
  ];
  const policy = compilePolicy(rules).byScope.run_input;
  const json = body(1024 * 1024);
  const text = JSON.stringify(json);
  say(`Scanning (${rules.length} rules, every detector, action redact; ${SCANS} scans after 5 warm-up)`);
  say('');
  say('| body | size | hits | min ms | p50 ms | p99 ms | max ms |');
  say('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, value] of [
    ['JSON object (1 MiB, ~2,900 records)', json],
    ['one string (1 MiB)', text],
  ] as const) {
    let hits = 0;
    for (let i = 0; i < 5; i++) hits = walk(policy, value, 'input').hits.reduce((n, h) => n + h.count, 0);
    const times: number[] = [];
    for (let i = 0; i < SCANS; i++) {
      const t0 = performance.now();
      walk(policy, value, 'input');
      times.push(performance.now() - t0);
    }
    const s = stats(times);
    say(
      `| ${label} | ${(text.length / 1024).toFixed(0)} KiB | ${hits} | ${ms(s.min)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`,
    );
  }
  say('');
}

// ------------------------------------------------------------------------------------------------ run start

async function runStart(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl)
    throw new Error(
      'Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres',
    );
  const database = `tenantry_bench_dlp_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const ownerUrl = withDatabase(serverUrl, database);
  const password = TEST_ENV.DATABASE_APP_PASSWORD;
  try {
    await runMigrations(ownerUrl, password, () => undefined);
    const config = loadConfig(
      { ...TEST_ENV, ...process.env, RATE_LIMIT_PER_MINUTE: '1000000' },
      () => undefined,
    );
    const app = await createApp({
      config,
      databaseUrl: deriveAppUrl(ownerUrl, undefined, password),
      logger: pino({ level: 'silent' }),
    });
    await app.getHttpAdapter().getInstance().ready();
    const http = () => request(app.getHttpServer());
    try {
      const company = async (name: string) => {
        const res = await http()
          .post('/v1/auth/register')
          .send({
            email: `${name}-${randomBytes(3).toString('hex')}@bench.test`,
            password: 'bench-password-not-secret',
            name: 'Owner',
            companyName: name,
          });
        if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
        const token = res.body.accessToken as string;
        const auth = { Authorization: `Bearer ${token}` };
        const draft = await http()
          .post('/v1/drafts')
          .set(auth)
          .send({
            name: `Bench ${name}`,
            description: 'DLP bench',
            category: 'finance',
            inputSchema: {
              type: 'object',
              properties: {
                customer: { type: 'object' },
                note: { type: 'string' },
                items: { type: 'array' },
              },
            },
            steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'member', prompt: 'ok?' }],
          });
        if (draft.status !== 201) throw new Error(`draft: ${draft.status} ${draft.text}`);
        const published = await http()
          .post(`/v1/drafts/${draft.body.id as string}/publish`)
          .set(auth);
        return { auth, versionId: published.body.publishedVersionId as string };
      };
      const withPolicy = await company('with-policy');
      const without = await company('without-policy');
      const policy = await http()
        .put('/v1/dlp-policy')
        .set(withPolicy.auth)
        .send({
          rules: [
            { detector: 'credit_card', action: 'redact' },
            { detector: 'us_ssn', action: 'block' },
            { detector: 'email', action: 'audit' },
            { detector: 'secret', action: 'block' },
            { detector: 'custom', action: 'redact', pattern: 'ACME-[0-9]{6}' },
          ],
        });
      if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${policy.text}`);
      // A typical input: a customer record, a note, a few line items (no finding: the common case).
      const input = {
        customer: { name: 'Jane Roe', id: 'cus_1842', address: { street: '1 Main St', zip: '10115' } },
        note: 'Please process the refund for order 2024-11-03 within 30 days, ticket 55123.',
        items: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i}`, qty: i + 1, price: 9.99 })),
      };
      const start = async (c: { auth: Record<string, string>; versionId: string }) => {
        const t0 = performance.now();
        const res = await http().post('/v1/runs').set(c.auth).send({ draftVersionId: c.versionId, input });
        const took = performance.now() - t0;
        if (res.status !== 202) throw new Error(`start: ${res.status} ${res.text}`);
        return took;
      };
      for (let i = 0; i < 20; i++) {
        await start(withPolicy);
        await start(without);
      }
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        if (i % 2 === 0) {
          a.push(await start(withPolicy));
          b.push(await start(without));
        } else {
          b.push(await start(without));
          a.push(await start(withPolicy));
        }
      }
      const sa = stats(a);
      const sb = stats(b);
      say(`Run start, POST /v1/runs in-process (${STARTS} each, alternating, after 20 warm-up each)`);
      say('');
      say('| company | p50 ms | mean ms | p99 ms |');
      say('| --- | ---: | ---: | ---: |');
      say(`| no policy | ${ms(sb.p50)} | ${ms(sb.mean)} | ${ms(sb.p99)} |`);
      say(`| 5-rule policy | ${ms(sa.p50)} | ${ms(sa.mean)} | ${ms(sa.p99)} |`);
      say(
        `| ratio | ${(sa.p50 / sb.p50).toFixed(3)} | ${(sa.mean / sb.mean).toFixed(3)} | ${(sa.p99 / sb.p99).toFixed(3)} |`,
      );
    } finally {
      await app.close();
    }
  } finally {
    if (!opts.keep) {
      const drop = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await drop.connect();
      await drop.query(`drop database if exists ${database} with (force)`);
      await drop.query(`drop role if exists ${pg.escapeIdentifier(appRoleFor(ownerUrl))}`);
      await drop.end();
    }
  }
}

if (opts.only !== 'runs') scanning();
if (opts.only !== 'scan') await runStart();
process.exit(0);
