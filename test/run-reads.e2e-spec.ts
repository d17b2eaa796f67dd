import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunReads } from '../src/runs/run-reads.js';
import { RunStep } from '../src/runs/run-step.entity.js';
import { RunVerdict } from '../src/runs/run-verdict.entity.js';
import { toRunDto, toRunSummary } from '../src/runs/run-views.js';
import { Run } from '../src/runs/run.entity.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client, publishDraft } from './harness/runs.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/**
 * The scoped reads of runs (`tenant_runs_page`, `tenant_run`, one round trip each) stay inside the company of
 * the context, and answer exactly what the ORM path would.
 */
describe('scoped run reads', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let aRun: string;
  let tenancy: TenancyService;
  let reads: RunReads;

  const ctx = (s: CompanySession) => ({
    companyId: s.companyId,
    principalId: s.owner.userId,
    principalType: 'user' as const,
    role: 'owner' as const,
    userId: s.owner.userId,
    actingUserId: s.owner.userId,
    operatorId: undefined,
  });

  beforeAll(async () => {
    t = await startTestApp();
    tenancy = t.app.get(TenancyService);
    reads = t.app.get(RunReads);
    a = await createCompanySession(t, 'Reads A');
    b = await createCompanySession(t, 'Reads B');
    for (const s of [a, b]) {
      const version = await publishDraft(t, s.manager, {
        inputSchema: { type: 'object', properties: { note: { type: 'string' } } },
        steps: [
          { id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Note {{input.note}}?' },
        ],
      });
      for (let i = 0; i < 3; i++) {
        const res = await client(t, s.member).post('/v1/runs', {
          draftVersionId: version,
          input: { note: `n${i}` },
        });
        expect(res.status).toBe(202);
        if (s === a) aRun = res.body.id as string;
      }
    }
    // Give A's last run a step row and a verdict, so the detail read has something to aggregate.
    await t.owner.query(
      `insert into run_steps (id, company_id, run_id, step_index, step_id, kind, status, attempts)
       values (gen_random_uuid(), $1, $2, 0, 'ok', 'approval', 'approved', 0)`,
      [a.companyId, aRun],
    );
    await t.owner.query(
      `insert into run_verdicts (id, company_id, run_id, step_id, decision, comment, given_by, given_by_user_id)
       values (gen_random_uuid(), $1, $2, 'ok', 'approve', 'fine', $3, $4)`,
      [a.companyId, aRun, a.manager.userId, a.manager.userId],
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it("never returns another company's runs, in a page or by id", async () => {
    const page = await tenancy.run(ctx(b), () => reads.page({ before: undefined, limit: 100 }));
    expect(page).toHaveLength(3);
    expect(page.map((r) => r.id)).not.toContain(aRun);
    expect(await tenancy.run(ctx(b), () => reads.one(aRun))).toBeNull();
    expect(await tenancy.run(ctx(a), () => reads.one(aRun))).not.toBeNull();
  });

  it('reads the company of the transaction, never the one of its argument', async () => {
    const conn = await t.appRole.connect();
    try {
      // A connection without a company that names A's company gets nothing: the argument alone opens no wall.
      expect((await conn.query('select * from tenant_run($1, $2)', [a.companyId, aRun])).rows).toEqual([]);
      expect(
        (await conn.query('select * from tenant_runs_page($1, null, 100, null, null, null)', [a.companyId]))
          .rows,
      ).toEqual([]);
      // Nor does a transaction of company B that names A's company.
      await conn.query('begin');
      await conn.query("select set_config('app.company_id', $1, true)", [b.companyId]);
      expect((await conn.query('select * from tenant_run($1, $2)', [a.companyId, aRun])).rows).toEqual([]);
      expect(
        (await conn.query('select * from tenant_runs_page($1, null, 100, null, null, null)', [a.companyId]))
          .rows,
      ).toEqual([]);
      expect((await conn.query('select * from tenant_run($1, $2)', [b.companyId, aRun])).rows).toEqual([]);
      await conn.query('rollback');
      // A transaction of company A reads its own run.
      await conn.query('begin');
      await conn.query("select set_config('app.company_id', $1, true)", [a.companyId]);
      expect((await conn.query('select id from tenant_run($1, $2)', [a.companyId, aRun])).rows).toEqual([
        { id: aRun },
      ]);
      await conn.query('rollback');
    } finally {
      conn.release();
    }
  });

  it('leaves no company setting behind on the pooled connection', async () => {
    await tenancy.run(ctx(a), () => reads.one(aRun));
    const pool: pg.Pool = await t.app.get(MikroORM).em.getConnection().getNativeClient();
    const conn = await pool.connect();
    try {
      const after = await conn.query("select coalesce(current_setting('app.company_id', true), '') as v");
      expect(after.rows).toEqual([{ v: '' }]);
      expect((await conn.query('select count(*)::int as n from runs')).rows).toEqual([{ n: 0 }]);
    } finally {
      conn.release();
    }
  });

  it('answers exactly what the ORM path answers, for the list and for one run', async () => {
    const viaOrm = await tenancy.run(ctx(a), async (em) => {
      const run = await em.findOneOrFail(Run, { id: aRun });
      const steps = await em.find(RunStep, { runId: aRun }, { orderBy: { stepIndex: 'asc' } });
      const verdicts = await em.find(RunVerdict, { runId: aRun }, { orderBy: { id: 'asc' } });
      const runs = await em.find(Run, {}, { orderBy: { id: 'desc' } });
      return {
        detail: toRunDto(run, steps, verdicts),
        list: runs.map((r) => toRunSummary(r)),
      };
    });
    const viaReads = await tenancy.run(ctx(a), async () => {
      const one = await reads.one(aRun);
      const page = await reads.page({ before: undefined, limit: 100 });
      return { detail: toRunDto(one!.run, one!.steps, one!.verdicts), list: page.map(toRunSummary) };
    });
    expect(viaReads).toEqual(viaOrm);
    expect(viaReads.detail.verdicts).toHaveLength(1);
    expect(viaReads.detail.steps[0]).toMatchObject({ status: 'approved' });
  });
});
