import { describe, expect, it } from 'vitest';
import { ceilQuarter, planRollupReads, utcEdges } from './rollup-terms.js';

const MIN = 60_000;
const Q = 15 * MIN;
const H = 60 * MIN;
const D = 24 * H;
const T0 = Date.UTC(2026, 2, 1);

/** Random counts in quarter-hours from T0 − 3 days to T0 + 40 days, and their hour and day rows. */
function rollups(seed: number) {
  let x = seed;
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const quarters = new Map<number, number>();
  for (let t = T0 - 3 * D; t < T0 + 40 * D; t += Q)
    if (rand() < 0.7) quarters.set(t, 1 + Math.floor(rand() * 5));
  const rows = new Map<string, number>();
  for (const [t, n] of quarters) {
    for (const span of [15, 60, 1440]) {
      const key = `${span}:${Math.floor(t / (span * MIN)) * span * MIN}`;
      rows.set(key, (rows.get(key) ?? 0) + n);
    }
  }
  /** What the rows between two edges add up to, counted quarter by quarter (each counted where its start falls). */
  const truth = (a: number, b: number) => {
    let n = 0;
    for (const [t, c] of quarters) if (t >= ceilQuarter(a) && t < ceilQuarter(b)) n += c;
    return n;
  };
  return { rows, truth, before: (a: number) => truth(-Infinity, a) };
}

function answer(edges: number[], rows: Map<string, number>) {
  const plan = planRollupReads(edges);
  const values = plan.keys.map((k) => rows.get(`${k.span}:${k.bucket}`) ?? 0);
  const slots = plan.slots.map((terms) => terms.reduce((n, [i, c]) => n + c * values[i], 0));
  let beforeDays = 0;
  for (const [key, n] of rows) {
    const [span, bucket] = key.split(':').map(Number);
    if (span === 1440 && bucket < plan.firstDay) beforeDays += n;
  }
  return { plan, before: beforeDays + slots[0], buckets: slots.slice(1) };
}

/** Local midnights of a zone with a fixed offset (minutes east of UTC), as UTC instants. */
const midnights = (offsetMin: number, days: number) =>
  Array.from({ length: days + 1 }, (_, i) => T0 + i * D - offsetMin * MIN);

describe('planRollupReads', () => {
  const cases: [string, number[]][] = [
    ['UTC days', midnights(0, 30)],
    ['Berlin days (+01:00)', midnights(60, 30)],
    ['New York days (−05:00)', midnights(-300, 30)],
    ['Kolkata days (+05:30)', midnights(330, 30)],
    ['Kathmandu days (+05:45)', midnights(345, 30)],
    ['Kiritimati days (+14:00)', midnights(840, 30)],
    ['hours', Array.from({ length: 49 }, (_, i) => T0 + 5 * D + i * H)],
    ['Kolkata hours', Array.from({ length: 49 }, (_, i) => T0 + 5 * D + i * H - 30 * MIN)],
    ['weeks', Array.from({ length: 6 }, (_, i) => T0 + i * 7 * D - 60 * MIN)],
    [
      'a daylight-saving change (Berlin: 23 hours, then 25)',
      [T0 + 27 * D - H, T0 + 28 * D - H, T0 + 29 * D - 2 * H, T0 + 30 * D - 2 * H],
    ],
    ['edges off the quarter-hour (local mean time)', [T0 + 7 * MIN + 28_000, T0 + D + 7 * MIN + 28_000]],
  ];
  for (const [label, edges] of cases) {
    it(`adds and subtracts rows to exactly the quarter-hour sums: ${label}`, () => {
      for (const seed of [1, 2, 3]) {
        const { rows, truth, before } = rollups(seed);
        const got = answer(edges, rows);
        expect(got.buckets).toEqual(edges.slice(1).map((e, i) => truth(edges[i], e)));
        expect(got.before).toBe(before(edges[0]));
      }
    });
  }

  it('reads about one row per bucket: a UTC day is one row, a Berlin day one more per edge', () => {
    expect(planRollupReads(midnights(0, 90)).keys).toHaveLength(90);
    expect(
      planRollupReads(midnights(0, 90))
        .slots.slice(1)
        .every((s) => s.length === 1),
    ).toBe(true);
    expect(planRollupReads(midnights(60, 90)).keys.length).toBeLessThanOrEqual(90 + 91);
    expect(planRollupReads(midnights(330, 90)).keys.length).toBeLessThanOrEqual(90 + 91 * 8);
    // Hours: one hour row each, whatever the day rows around them.
    const hours = Array.from({ length: 24 * 90 + 1 }, (_, i) => T0 + i * H);
    const plan = planRollupReads(hours);
    expect(plan.slots.slice(1).every((s) => s.length === 1 && s[0][1] === 1)).toBe(true);
  });
});

describe('utcEdges', () => {
  const iso = (edges: number[]) => edges.map((e) => new Date(e).toISOString());
  it('answers the edges date_trunc gives in UTC: hours, days, ISO weeks, months', () => {
    const from = new Date('2026-03-01T10:20:00Z');
    expect(iso(utcEdges(from, new Date('2026-03-01T12:00:00Z'), 'hour'))).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
    ]);
    expect(iso(utcEdges(from, new Date('2026-03-02T00:00:00.001Z'), 'day'))).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
    ]);
    // 2026-03-01 is a Sunday: its ISO week began on Monday the 23rd of February.
    expect(iso(utcEdges(from, new Date('2026-03-03T00:00:00Z'), 'week'))).toEqual([
      '2026-02-23T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-09T00:00:00.000Z',
    ]);
    expect(
      iso(utcEdges(new Date('2026-01-31T23:00:00Z'), new Date('2026-03-01T00:00:00Z'), 'month')),
    ).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  });
});
