import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillRunRollups } from '../src/analytics/run-rollups-backfill.js';
import { bucketOf, emptyHistogram, quantile, representative } from '../src/common/duration-histogram.js';
import { newId } from '../src/common/ids.js';
import { RunEngine } from '../src/runs/run-engine.js';
import type { RunWorkerHandle } from '../src/runs/run-execution.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { sendJson, startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem } from './harness/problem.js';
import { bindTool, client, publishDraft, waitForRun } from './harness/runs.js';
import { createCompanySession, type Actor, type CompanySession } from './harness/session.js';

/** The value a percentile reports for a duration (the histogram's bucket representative). */
const rep = (ms: number) => representative(bucketOf(ms));

const at = (iso: string) => new Date(iso);
const ms = (from: string, to: string) => at(to).getTime() - at(from).getTime();

interface SeededRun {
  template: string;
  created: string;
  status: 'queued' | 'parked' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';
  finished?: string;
  /** An approval step: parked at `from`, left at `to` (with `decision`). */
  approval?: { from: string; to?: string; status: 'waiting' | 'approved' | 'rejected' | 'cancelled' };
}

/**
 * Runs written as the database owner with chosen timestamps (what the rollups cannot get from live runs: days
 * in the past, a daylight-saving day, a park across midnight), then counted by the backfill.
 */
async function seedRuns(t: TestApp, s: CompanySession, runs: SeededRun[]): Promise<void> {
  for (const r of runs) {
    const id = newId();
    await t.owner.query(
      `insert into runs (id, created_at, updated_at, finished_at, company_id, source, template_ref_id, template_key,
         template_version, template_name, step_count, definition, input, status, current_step_index, started_by,
         started_by_type, started_by_user_id, parked_step_id, parked_min_role, parked_prompt, parked_since)
       values ($1, $2, $2, $3, $4, 'template', $5, 'seeded.process', 1, 'Seeded process', 1,
         '{"name":"Seeded process","steps":[]}', '{}', $6, 0, $7::text, 'user', $7::uuid,
         $8, $9, $10, $11)`,
      [
        id,
        r.created,
        r.finished ?? null,
        s.companyId,
        r.template,
        r.status,
        s.member.userId,
        r.status === 'parked' ? 'approve' : null,
        r.status === 'parked' ? 'manager' : null,
        r.status === 'parked' ? 'Decide' : null,
        r.status === 'parked' ? (r.approval?.from ?? null) : null,
      ],
    );
    if (r.approval) {
      await t.owner.query(
        `insert into run_steps (id, created_at, updated_at, company_id, run_id, step_index, step_id, kind, status,
           attempts, started_at, finished_at)
         values ($1, $2, $2, $3, $4, 0, 'approve', 'approval', $5, 0, $2, $6)`,
        [newId(), r.approval.from, s.companyId, id, r.approval.status, r.approval.to ?? null],
      );
    }
  }
}

const T1 = newId();
const T2 = newId();

/**
 * Around the spring-forward day in Berlin (2026-03-29 is 23 hours long: CET +01:00 until 01:00 UTC, then CEST
 * +02:00). R0 parks long before the range and stays parked; R2 parks at 23:30 Berlin time and is approved the
 * next morning; R3 starts at 00:30 Berlin time (still the 28th in UTC); R4 parks on the 29th and stays parked.
 */
const KNOWN: SeededRun[] = [
  {
    template: T1,
    created: '2026-03-20T10:00:00Z',
    status: 'parked',
    approval: { from: '2026-03-20T10:00:10Z', status: 'waiting' },
  },
  { template: T1, created: '2026-03-28T10:00:00Z', status: 'succeeded', finished: '2026-03-28T10:00:02Z' },
  {
    template: T1,
    created: '2026-03-28T22:30:00Z',
    status: 'succeeded',
    finished: '2026-03-29T07:00:05Z',
    approval: { from: '2026-03-28T22:30:10Z', to: '2026-03-29T07:00:00Z', status: 'approved' },
  },
  { template: T1, created: '2026-03-28T23:30:00Z', status: 'failed', finished: '2026-03-28T23:31:00Z' },
  {
    template: T1,
    created: '2026-03-29T21:30:00Z',
    status: 'parked',
    approval: { from: '2026-03-29T21:31:00Z', status: 'waiting' },
  },
  {
    template: T1,
    created: '2026-03-30T08:00:00Z',
    status: 'rejected',
    finished: '2026-03-30T09:00:30Z',
    approval: { from: '2026-03-30T08:00:30Z', to: '2026-03-30T09:00:30Z', status: 'rejected' },
  },
  {
    template: T1,
    created: '2026-03-30T10:00:00Z',
    status: 'cancelled',
    finished: '2026-03-30T11:01:00Z',
    approval: { from: '2026-03-30T10:01:00Z', to: '2026-03-30T11:01:00Z', status: 'cancelled' },
  },
  {
    template: T2,
    created: '2026-03-30T12:00:00Z',
    status: 'succeeded',
    finished: '2026-03-30T12:00:00.500Z',
  },
];

const NONE = { p50: null, p95: null };

interface RollupRowView {
  span: number;
  bucket: Date;
  template_ref_id: string;
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  cancelled: number;
  parked_in: number;
  parked_out: number;
  duration_hist: number[];
  wait_hist: number[];
}

/** Quarter-hour rows summed into rows of `span` minutes (what the hour and day rows must hold). */
function rollUp(quarters: readonly RollupRowView[], span: number): RollupRowView[] {
  const out = new Map<string, RollupRowView>();
  for (const q of quarters) {
    const bucket = new Date(Math.floor(q.bucket.getTime() / (span * 60_000)) * span * 60_000);
    const key = `${q.template_ref_id} ${bucket.toISOString()}`;
    const r = out.get(key);
    if (!r) {
      out.set(key, { ...q, span, bucket, duration_hist: [...q.duration_hist], wait_hist: [...q.wait_hist] });
      continue;
    }
    for (const k of [
      'started',
      'succeeded',
      'failed',
      'rejected',
      'cancelled',
      'parked_in',
      'parked_out',
    ] as const)
      r[k] += q[k];
    r.duration_hist = r.duration_hist.map((n, j) => n + q.duration_hist[j]);
    r.wait_hist = r.wait_hist.map((n, j) => n + q.wait_hist[j]);
  }
  return [...out.values()].sort(
    (a, b) => a.template_ref_id.localeCompare(b.template_ref_id) || a.bucket.getTime() - b.bucket.getTime(),
  );
}

describe('analytics', () => {
  let t: TestApp;
  let endpoint: TestEndpoint;
  let known: CompanySession;
  let other: CompanySession;
  let live: CompanySession;

  const get = (actor: Actor, path: string) => client(t, actor).get(path);

  beforeAll(async () => {
    t = await startTestApp();
    endpoint = await startTestEndpoint();
    [known, other, live] = await Promise.all([
      createCompanySession(t, 'Analytics known'),
      createCompanySession(t, 'Analytics other'),
      createCompanySession(t, 'Analytics live'),
    ]);
    // The other company has runs in the very same buckets, of the very same template ids.
    await seedRuns(t, known, KNOWN);
    await seedRuns(t, other, [...KNOWN, ...KNOWN]);
    const tenancy = t.app.get(TenancyService);
    expect((await backfillRunRollups(tenancy, known.companyId)).inserted).toBeGreaterThan(0);
    await backfillRunRollups(tenancy, other.companyId);
  });
  afterAll(async () => {
    await t.close();
    await endpoint.close();
  });

  describe('runs series from a known set of runs', () => {
    it('answers exact day buckets in Europe/Berlin across the daylight-saving change', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/runs?interval=day&timezone=Europe/Berlin&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00',
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({
        interval: 'day',
        timezone: 'Europe/Berlin',
        buckets: [
          {
            start: '2026-03-27T23:00:00.000Z',
            started: 2,
            succeeded: 1,
            failed: 0,
            rejected: 0,
            cancelled: 0,
            // R0 (parked since the 20th) and R2 (parked at 23:30 Berlin time, across midnight)
            parked: 2,
            durationMs: { p50: rep(2000), p95: rep(2000) },
            approvalWaitMs: NONE,
          },
          {
            // 23 hours long: the next day starts at 22:00 UTC
            start: '2026-03-28T23:00:00.000Z',
            started: 2,
            succeeded: 1,
            failed: 1,
            rejected: 0,
            cancelled: 0,
            parked: 2,
            durationMs: {
              p50: rep(60_000),
              p95: rep(ms('2026-03-28T22:30:00Z', '2026-03-29T07:00:05Z')),
            },
            approvalWaitMs: {
              p50: rep(ms('2026-03-28T22:30:10Z', '2026-03-29T07:00:00Z')),
              p95: rep(ms('2026-03-28T22:30:10Z', '2026-03-29T07:00:00Z')),
            },
          },
          {
            start: '2026-03-29T22:00:00.000Z',
            started: 3,
            succeeded: 1,
            failed: 0,
            rejected: 1,
            cancelled: 1,
            // R6 was cancelled while parked: off the gauge, with no approval wait
            parked: 2,
            durationMs: { p50: rep(3_630_000), p95: rep(3_660_000) },
            approvalWaitMs: { p50: rep(3_600_000), p95: rep(3_600_000) },
          },
        ],
      });
    });

    it('cuts the same runs at UTC midnights by default', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/runs?from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z',
      );
      expect(res.status).toBe(200);
      expect(
        (res.body.buckets as Record<string, unknown>[]).map((b) => [b.start, b.started, b.failed, b.parked]),
      ).toEqual([
        ['2026-03-28T00:00:00.000Z', 3, 1, 2],
        ['2026-03-29T00:00:00.000Z', 1, 0, 2],
        ['2026-03-30T00:00:00.000Z', 3, 0, 2],
      ]);
    });

    it('has 23 hour buckets on the Berlin spring-forward day, zero-filled', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/runs?interval=hour&timezone=Europe/Berlin&from=2026-03-29T00:00:00%2B01:00&to=2026-03-30T00:00:00%2B02:00',
      );
      expect(res.status).toBe(200);
      const buckets = res.body.buckets as {
        start: string;
        started: number;
        failed: number;
        parked: number;
      }[];
      expect(buckets).toHaveLength(23);
      buckets.forEach((b, i) =>
        expect(b.start).toBe(new Date(Date.parse('2026-03-28T23:00:00Z') + i * 3_600_000).toISOString()),
      );
      expect(buckets[0]).toMatchObject({ started: 1, failed: 1, parked: 2 });
      expect(buckets.reduce((n, b) => n + b.started, 0)).toBe(2);
      // R2 leaves the gauge at 09:00 Berlin time (07:00 UTC); R4 joins it at 23:31 (21:31 UTC)
      expect(buckets.map((b) => b.parked)).toEqual([
        ...Array<number>(8).fill(2),
        ...Array<number>(14).fill(1),
        2,
      ]);
    });

    it('cuts days at 18:30 UTC in Asia/Kolkata (a half-hour offset)', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/runs?timezone=Asia/Kolkata&from=2026-03-29T00:00:00%2B05:30&to=2026-03-30T00:00:00%2B05:30',
      );
      expect(res.status).toBe(200);
      expect(res.body.buckets).toEqual([
        expect.objectContaining({
          start: '2026-03-28T18:30:00.000Z',
          started: 2,
          succeeded: 1,
          failed: 1,
          parked: 1,
        }),
      ]);
    });

    it('narrows to one template, and weeks and months add up the same runs', async () => {
      const one = await get(
        known.member,
        `/v1/analytics/runs?templateId=${T2}&from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z`,
      );
      expect((one.body.buckets as { started: number }[]).map((b) => b.started)).toEqual([0, 0, 1]);
      const month = await get(
        known.member,
        '/v1/analytics/runs?interval=month&timezone=Europe/Berlin&from=2026-03-01T00:00:00%2B01:00&to=2026-04-01T00:00:00%2B02:00',
      );
      expect(month.body.buckets).toEqual([
        expect.objectContaining({
          start: '2026-02-28T23:00:00.000Z',
          started: 8,
          succeeded: 3,
          failed: 1,
          rejected: 1,
          cancelled: 1,
          parked: 2,
        }),
      ]);
      const weeks = await get(
        known.member,
        '/v1/analytics/runs?interval=week&from=2026-03-16T00:00:00Z&to=2026-03-30T00:00:00Z',
      );
      // ISO weeks start on Monday: 16 March, 23 March (R0 on the 20th; R1–R4 in the second week)
      expect(
        (weeks.body.buckets as Record<string, unknown>[]).map((b) => [b.start, b.started, b.parked]),
      ).toEqual([
        ['2026-03-16T00:00:00.000Z', 1, 1],
        ['2026-03-23T00:00:00.000Z', 4, 2],
      ]);
    });

    it('answers the same rows as CSV', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/runs?from=2026-03-28T00:00:00Z&to=2026-03-30T00:00:00Z',
      ).set('Accept', 'text/csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = res.text.trim().split('\n');
      expect(lines[0]).toBe(
        'start,started,succeeded,failed,rejected,cancelled,parked,durationMsP50,durationMsP95,approvalWaitMsP50,approvalWaitMsP95',
      );
      expect(lines[1]).toBe(`2026-03-28T00:00:00.000Z,3,1,1,0,0,2,${rep(2000)},${rep(60_000)},,`);
      expect(lines).toHaveLength(3);
    });
  });

  describe('rollups at three spans', () => {
    /** The company's all-templates rows of one span, as the owner sees them. */
    const rowsOf = async (companyId: string, span: number) =>
      (
        await t.owner.query<RollupRowView>(
          `select span, bucket, template_ref_id, started, succeeded, failed, rejected, cancelled, parked_in,
             parked_out, duration_hist, wait_hist
           from analytics_run_rollups where company_id = $1 and span = $2 order by template_ref_id, bucket`,
          [companyId, span],
        )
      ).rows;

    it('keeps every hour and day row the sum of its quarter-hours, for each template (backfill)', async () => {
      const quarters = await rowsOf(known.companyId, 15);
      expect(quarters.length).toBeGreaterThan(0);
      for (const span of [60, 1440]) {
        expect(await rowsOf(known.companyId, span)).toEqual(rollUp(quarters, span));
      }
    });

    /**
     * Whatever the zone and interval, each bucket is the sum of the quarter-hours that start in it (the oracle here,
     * from the quarter-hour rows), though the read adds and subtracts day, hour and quarter-hour rows: zones with
     * whole-hour, half-hour (Kolkata, St John's with its daylight saving) and 45-minute (Kathmandu) offsets, Lord
     * Howe's half-hour daylight-saving change, and Berlin's spring-forward day.
     */
    it('answers each bucket as the sum of its quarter-hours in every kind of zone', async () => {
      const quarters = (await rowsOf(known.companyId, 15)).filter(
        (r) => r.template_ref_id === '00000000-0000-0000-0000-000000000000',
      );
      const cases: [string, string, string, string][] = [
        ['Europe/Berlin', 'day', '2026-03-15T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['Europe/Berlin', 'hour', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'],
        ['America/New_York', 'day', '2026-03-01T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['America/St_Johns', 'day', '2026-03-01T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['Asia/Kolkata', 'day', '2026-03-15T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['Asia/Kolkata', 'hour', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'],
        ['Asia/Kathmandu', 'day', '2026-03-15T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['Australia/Lord_Howe', 'day', '2026-03-15T00:00:00Z', '2026-04-10T00:00:00Z'],
        ['Pacific/Kiritimati', 'week', '2026-03-01T00:00:00Z', '2026-04-30T00:00:00Z'],
        ['UTC', 'month', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z'],
      ];
      for (const [tz, interval, from, to] of cases) {
        const res = await get(
          known.member,
          `/v1/analytics/runs?interval=${interval}&timezone=${tz}&from=${from}&to=${to}`,
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const buckets = res.body.buckets as Record<string, unknown>[];
        // The last bucket's end is not in the answer (each range ends after the known runs).
        for (let i = 0; i + 1 < buckets.length; i++) {
          const lo = Date.parse(buckets[i].start as string);
          const hi = Date.parse(buckets[i + 1].start as string);
          const inside = quarters.filter((r) => r.bucket.getTime() >= lo && r.bucket.getTime() < hi);
          const sum = (k: keyof RollupRowView) => inside.reduce((n, r) => n + Number(r[k]), 0);
          const merged = (k: 'duration_hist' | 'wait_hist') =>
            inside.reduce((h, r) => h.map((n, j) => n + r[k][j]), emptyHistogram());
          const parked = quarters
            .filter((r) => r.bucket.getTime() < hi)
            .reduce((n, r) => n + r.parked_in - r.parked_out, 0);
          expect(buckets[i], `${tz} ${interval} ${String(buckets[i].start)}`).toEqual({
            start: buckets[i].start,
            started: sum('started'),
            succeeded: sum('succeeded'),
            failed: sum('failed'),
            rejected: sum('rejected'),
            cancelled: sum('cancelled'),
            parked,
            durationMs: {
              p50: quantile(merged('duration_hist'), 0.5),
              p95: quantile(merged('duration_hist'), 0.95),
            },
            approvalWaitMs: {
              p50: quantile(merged('wait_hist'), 0.5),
              p95: quantile(merged('wait_hist'), 0.95),
            },
          });
        }
      }
    });
  });

  describe('templates', () => {
    it('answers runs, success rate and medians per template', async () => {
      const res = await get(
        known.member,
        '/v1/analytics/templates?from=2026-03-27T00:00:00Z&to=2026-03-31T00:00:00Z',
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([
        {
          templateId: T1,
          source: 'template',
          templateKey: 'seeded.process',
          name: 'Seeded process',
          runs: 6,
          finished: 5,
          succeeded: 2,
          successRate: 0.4,
          // 2 s, 60 s, 3 630 s, 3 660 s, 30 605 s: the third
          medianDurationMs: rep(3_630_000),
          // 3 600 s and 30 590 s: nearest rank, the first
          medianApprovalWaitMs: rep(3_600_000),
        },
        {
          templateId: T2,
          source: 'template',
          templateKey: 'seeded.process',
          name: 'Seeded process',
          runs: 1,
          finished: 1,
          succeeded: 1,
          successRate: 1,
          medianDurationMs: rep(500),
          medianApprovalWaitMs: null,
        },
      ]);
    });
  });

  describe('another company', () => {
    it('never counts: its own numbers are its own (twice the known set), and the known company sees only its own', async () => {
      const path = '/v1/analytics/runs?interval=month&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z';
      const mine = await get(known.member, path);
      const theirs = await get(other.member, path);
      expect(mine.body.buckets[0]).toMatchObject({ started: 8, parked: 2 });
      expect(theirs.body.buckets[0]).toMatchObject({ started: 16, parked: 4 });
      const templates = await get(
        known.member,
        '/v1/analytics/templates?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z',
      );
      expect((templates.body.data as { runs: number }[]).map((d) => d.runs)).toEqual([7, 1]);
    });

    it('sees nothing at all through the analytics tables of another company (row-level security)', async () => {
      const client = await t.appRole.connect();
      try {
        await client.query('begin');
        await client.query("select set_config('app.company_id', $1, true)", [known.companyId]);
        const rows = await client.query<{ company_id: string }>(
          'select distinct company_id from analytics_run_rollups',
        );
        expect(rows.rows).toEqual([{ company_id: known.companyId }]);
        await client.query('rollback');
      } finally {
        client.release();
      }
    });
  });

  describe('input', () => {
    it('refuses an unknown time zone, an offset, a span over 400 days, an empty range and an unknown interval (400)', async () => {
      for (const query of [
        'timezone=Mars/Olympus',
        'timezone=%2B05:30',
        'from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
        'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z',
        'interval=minute',
        'from=yesterday',
      ]) {
        const res = await get(known.member, `/v1/analytics/runs?${query}`);
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
      const res = await get(
        known.member,
        '/v1/analytics/templates?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
      );
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('defaults to the last 30 days, in UTC days, zero-filled', async () => {
      const res = await get(known.member, '/v1/analytics/runs');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ interval: 'day', timezone: 'UTC' });
      // 30 days back from now: the bucket of that moment, then one a day up to today's
      const buckets = res.body.buckets as { start: string }[];
      expect(buckets).toHaveLength(31);
      expect(buckets[0].start).toBe(
        `${new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`,
      );
    });

    it('is read by members and denied without a credential', async () => {
      for (const path of ['runs', 'templates', 'connectors', 'usage']) {
        expect((await get(known.member, `/v1/analytics/${path}`)).status).toBe(200);
        expectProblem(await t.http().get(`/v1/analytics/${path}`), 401, 'UNAUTHENTICATED');
      }
    });
  });

  describe('live runs', () => {
    const handle: RunWorkerHandle = {
      instanceId: 'analytics-test',
      settings: { leaseMs: 10_000, deferMs: 50, backoffBaseMs: 5, backoffMaxMs: 10 },
      stopping: false,
      track: () => undefined,
      untrack: () => undefined,
    };
    let flaky = 0;

    /** Executes the run's job here, as a worker would (until it parks or ends). */
    const execute = async (runId: string) => {
      await t.app.get(RunEngine).process({ companyId: live.companyId, runId }, handle);
    };
    const start = async (version: string): Promise<string> => {
      const res = await client(t, live.member).post('/v1/runs', { draftVersionId: version });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return res.body.id as string;
    };
    const verdict = async (runId: string, decision: 'approve' | 'reject') => {
      const res = await client(t, live.manager).post(`/v1/runs/${runId}/verdict`, {
        decision,
        ...(decision === 'reject' ? { comment: 'no' } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    const totals = async () => {
      const res = await get(live.member, '/v1/analytics/runs?interval=month');
      expect(res.status).toBe(200);
      const buckets = res.body.buckets as Record<string, number>[];
      const sum = (k: string) => buckets.reduce((n, b) => n + b[k], 0);
      return {
        started: sum('started'),
        succeeded: sum('succeeded'),
        failed: sum('failed'),
        rejected: sum('rejected'),
        cancelled: sum('cancelled'),
        parked: buckets.at(-1)!.parked,
      };
    };

    it('counts each run once as it changes, recovered and retried runs included', async () => {
      endpoint.handle('/ok', (_req, res) => sendJson(res, 200, { ok: true }));
      endpoint.handle('/bad', (_req, res) => sendJson(res, 400, { error: 'no' }));
      endpoint.handle('/flaky', (_req, res) => {
        flaky += 1;
        sendJson(res, flaky === 1 ? 503 : 200, { flaky });
      });
      await bindTool(t, live.admin, 'svc.ok', endpoint.url('/ok'));
      await bindTool(t, live.admin, 'svc.bad', endpoint.url('/bad'));
      await bindTool(t, live.admin, 'svc.flaky', endpoint.url('/flaky'));
      const approvalFlow = await publishDraft(t, live.manager, {
        steps: [
          { id: 'call', kind: 'tool', name: 'Call', toolId: 'svc.ok', input: {} },
          { id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' },
        ],
      });
      const failing = await publishDraft(t, live.manager, {
        steps: [{ id: 'bad', kind: 'tool', name: 'Bad', toolId: 'svc.bad', input: {}, retries: 0 }],
      });
      const retried = await publishDraft(t, live.manager, {
        steps: [{ id: 'flaky', kind: 'tool', name: 'Flaky', toolId: 'svc.flaky', input: {}, retries: 2 }],
      });

      const approved = await start(approvalFlow);
      const rejected = await start(approvalFlow);
      const cancelled = await start(approvalFlow);
      const stillParked = await start(approvalFlow);
      for (const id of [approved, rejected, cancelled, stillParked]) {
        await execute(id);
        await waitForRun(t, live.member, id, ['parked']);
      }
      expect(await totals()).toEqual({
        started: 4,
        succeeded: 0,
        failed: 0,
        rejected: 0,
        cancelled: 0,
        parked: 4,
      });
      await verdict(approved, 'approve');
      await execute(approved);
      await waitForRun(t, live.member, approved, ['succeeded']);
      await verdict(rejected, 'reject');
      const cancel = await client(t, live.member).post(`/v1/runs/${cancelled}/cancel`, {});
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);

      const failed = await start(failing);
      await execute(failed);
      await waitForRun(t, live.member, failed, ['failed']);

      // A call fails with a 503 and is retried by the worker: one run.
      const flakyRun = await start(retried);
      await execute(flakyRun);
      await waitForRun(t, live.member, flakyRun, ['succeeded']);

      // A worker died holding the run (its lease expired): the next claim recovers it and it runs again.
      const recovered = await start(retried);
      await t.owner.query(
        "update runs set status = 'running', lease_owner = 'dead-worker', lease_expires_at = now() - interval '1 second' where id = $1",
        [recovered],
      );
      await execute(recovered);
      await waitForRun(t, live.member, recovered, ['succeeded']);
      const events = await t.owner.query<{ type: string }>(
        "select type from run_events where run_id = $1 and type = 'run.retried'",
        [recovered],
      );
      expect(events.rows).toHaveLength(1);
      // Its job, delivered again, finds it finished and counts nothing more.
      await execute(recovered);

      expect(await totals()).toEqual({
        started: 7,
        succeeded: 3,
        failed: 1,
        rejected: 1,
        cancelled: 1,
        parked: 1,
      });

      const connectors = await get(live.member, '/v1/analytics/connectors');
      expect(connectors.status).toBe(200);
      const byTool = Object.fromEntries(
        (connectors.body.data as { toolId: string; latencyMs: { p50: number | null } }[]).map((c) => [
          c.toolId,
          c,
        ]),
      );
      expect(byTool['svc.ok']).toMatchObject({ calls: 4, errors: 0, errorsByReason: {} });
      expect(byTool['svc.bad']).toMatchObject({ calls: 1, errors: 1, errorsByReason: { http_status: 1 } });
      expect(byTool['svc.flaky']).toMatchObject({ calls: 3, errors: 1, errorsByReason: { http_status: 1 } });
      expect(byTool['svc.ok']?.latencyMs.p50).toEqual(expect.any(Number));
      const steps = await t.owner.query<{ last_call_ms: number | null }>(
        'select last_call_ms from run_steps where run_id = $1',
        [failed],
      );
      expect(steps.rows[0]?.last_call_ms).toEqual(expect.any(Number));

      // The backfill rebuilds exactly the counts the transitions kept, at every span (live waits and durations are
      // measured by the clock of the transition, the backfill's from the rows: histograms may differ by a bucket).
      const liveCounts = async () =>
        (
          await t.owner.query(
            `select span, bucket, template_ref_id, started, succeeded, failed, rejected, cancelled, parked_in, parked_out
             from analytics_run_rollups where company_id = $1 order by span, template_ref_id, bucket`,
            [live.companyId],
          )
        ).rows;
      const written = await liveCounts();
      expect(new Set(written.map((r: { span: number }) => r.span))).toEqual(new Set([15, 60, 1440]));
      const before = await get(live.member, '/v1/analytics/templates');
      await backfillRunRollups(t.app.get(TenancyService), live.companyId);
      expect(await liveCounts()).toEqual(written);
      const after = await get(live.member, '/v1/analytics/templates');
      const counts = (body: { data: Record<string, unknown>[] }) =>
        body.data.map(({ templateId, runs, finished, succeeded, successRate }) => ({
          templateId,
          runs,
          finished,
          succeeded,
          successRate,
        }));
      expect(counts(after.body as { data: Record<string, unknown>[] })).toEqual(
        counts(before.body as { data: Record<string, unknown>[] }),
      );
      expect(await totals()).toMatchObject({ started: 7, parked: 1 });

      const usage = await get(live.member, '/v1/analytics/usage');
      expect(usage.status).toBe(200);
      expect(usage.body).toMatchObject({
        runsStarted: 7,
        monthlyRunBudget: null,
        runsInFlight: 0,
        maxConcurrentRuns: 4,
        members: 4,
        apiKeys: 0,
        wikiPages: 0,
        cards: 0,
      });
      expect(usage.body.auditEvents).toBeGreaterThan(20);
      const csv = await get(live.member, '/v1/analytics/usage').set('Accept', 'text/csv');
      expect(csv.text.split('\n')[0]).toBe(
        'month,runsStarted,monthlyRunBudget,runsInFlight,maxConcurrentRuns,members,apiKeys,auditEvents,wikiPages,cards',
      );
    }, 60_000);
  });
});
