import { spawn, type ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newId } from '../src/common/ids.js';
import { RunClaims } from '../src/runs/run-claims.js';
import { RunEngine, STUCK_RUN_REASON } from '../src/runs/run-engine.js';
import { workerContext, type RunWorkerHandle } from '../src/runs/run-execution.js';
import { RunQueue } from '../src/runs/run-queue.js';
import { RunWorker } from '../src/runs/run-worker.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { sendJson, startTestEndpoint, type ReceivedRequest, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import { bindTool, client, publishDraft, timeline, waitFor, waitForRun } from './harness/runs.js';
import {
  addMember,
  applicationToken,
  createCompanySession,
  login,
  type Actor,
  type CompanySession,
} from './harness/session.js';

// Every suite that runs a worker lives in this one file, so that no two of them run at once: a worker takes any
// job of the queue, and a worker of a parallel suite would otherwise execute (or steal) another suite's runs.

const FLOW_SCHEMA = {
  type: 'object',
  required: ['customerId'],
  properties: {
    customerId: { type: 'string', minLength: 1 },
    amount: { type: 'integer', minimum: 1 },
    address: {
      type: 'object',
      properties: { zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/** tool → approval (manager) → tool: outputs of the first step flow into the prompt and the last call. */
const FLOW_STEPS = [
  {
    id: 'lookup',
    kind: 'tool',
    name: 'Look up the customer',
    toolId: 'crm.lookup',
    input: { customerId: '{{input.customerId}}', amount: '{{input.amount}}' },
  },
  {
    id: 'approve',
    kind: 'approval',
    name: 'Approve the credit',
    minRole: 'manager',
    prompt: 'Credit {{input.amount}} to {{steps.lookup.output.name}} (tier {{steps.lookup.output.tier}})?',
  },
  {
    id: 'credit',
    kind: 'tool',
    name: 'Credit the customer',
    toolId: 'billing.credit',
    input: { account: '{{steps.lookup.output.account}}', amount: '{{input.amount}}', note: 'ok' },
  },
];

const tool = (id: string, toolId: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'tool',
  name: `Call ${toolId}`,
  toolId,
  input: { at: id },
  ...extra,
});
const approval = (id: string, minRole = 'manager') => ({
  id,
  kind: 'approval',
  name: `Decide ${id}`,
  minRole,
  prompt: `Decide ${id}`,
});

describe('runs', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let manager2: Actor;
  let endpoint: TestEndpoint;
  const versions: Record<string, string> = {};
  /** Responses held back by the `/hang` endpoint, released by the test. */
  const hanging: ServerResponse[] = [];
  let flaky = 0;

  const as = (actor: Actor) => client(t, actor);
  const start = (actor: Actor, body: object, headers: Record<string, string> = {}) =>
    as(actor).post('/v1/runs', body, headers);
  const startOk = async (actor: Actor, body: object): Promise<string> => {
    const res = await start(actor, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.id as string;
  };
  const auditActions = async (runId: string): Promise<string[]> =>
    (
      await t.owner.query<{ action: string }>(
        "select action from audit_events where target_type = 'Run' and target_id = $1 order by seq",
        [runId],
      )
    ).rows.map((r) => r.action);

  beforeAll(async () => {
    t = await startTestApp();
    endpoint = await startTestEndpoint();
    [a, b] = await Promise.all([createCompanySession(t, 'Runs A'), createCompanySession(t, 'Runs B')]);
    const second = await addMember(t, a.companyId, 'manager');
    manager2 = { ...second, role: 'manager', ...(await login(t, second.email, a.slug)) };

    endpoint.handle('/lookup', (req, res) => {
      const body = JSON.parse(req.body) as { customerId: string };
      sendJson(res, 200, {
        name: `Customer ${body.customerId}`,
        tier: 'gold',
        account: `acc-${body.customerId}`,
      });
    });
    endpoint.handle('/credit', (req, res) => sendJson(res, 200, { credited: JSON.parse(req.body) }));
    endpoint.handle('/flaky', (_req, res) => {
      flaky += 1;
      if (flaky % 3 !== 0) sendJson(res, 503, { error: 'busy' });
      else sendJson(res, 200, { ok: true, after: flaky });
    });
    endpoint.handle('/bad', (_req, res) => sendJson(res, 422, { error: 'no such thing' }));
    endpoint.handle('/down', (_req, res) => sendJson(res, 503, { error: 'down' }));
    endpoint.handle('/hang', (_req, res) => hanging.push(res));
    // An endpoint whose JSON answer holds NUL (\u0000) in a value and in a key.
    endpoint.handle('/nul', (_req, res) => sendJson(res, 200, { name: 'a\u0000b', 'k\u0000': 1 }));

    await bindTool(t, a.admin, 'crm.lookup', endpoint.url('/lookup'));
    await bindTool(t, a.admin, 'billing.credit', endpoint.url('/credit'));
    await bindTool(t, a.admin, 'svc.flaky', endpoint.url('/flaky'));
    await bindTool(t, a.admin, 'svc.bad', endpoint.url('/bad'));
    await bindTool(t, a.admin, 'svc.down', endpoint.url('/down'));
    await bindTool(t, a.admin, 'svc.hang', endpoint.url('/hang'));
    await bindTool(t, a.admin, 'svc.nul', endpoint.url('/nul'));
    // Company B binds the same tool id to an endpoint of its own.
    await bindTool(t, b.admin, 'crm.lookup', endpoint.url('/lookup-b'));

    const drafts: [string, Parameters<typeof publishDraft>[2]][] = [
      ['flow', { inputSchema: FLOW_SCHEMA, steps: FLOW_STEPS }],
      ['approval', { steps: [approval('decide')] }],
      ['adminApproval', { steps: [approval('sign-off', 'admin')] }],
      ['unbound', { steps: [tool('missing', 'erp.missing')] }],
      ['flaky', { steps: [tool('flaky', 'svc.flaky', { retries: 2 })] }],
      ['bad', { steps: [tool('bad', 'svc.bad', { retries: 3 })] }],
      ['down', { steps: [tool('down', 'svc.down', { retries: 1 })] }],
      ['hang', { steps: [tool('hang', 'svc.hang'), tool('after', 'billing.credit')] }],
      ['secret', { steps: [tool('sealed', 'svc.sealed')] }],
      [
        'nulOutput',
        {
          steps: [
            tool('echo', 'svc.nul'),
            { ...approval('check'), prompt: 'Approve {{steps.echo.output.name}}?' },
          ],
        },
      ],
    ];
    for (const [name, draft] of drafts) versions[name] = await publishDraft(t, a.manager, draft);
    t.app.get(RunWorker).start({ pollIntervalMs: 50, leaseMs: 5_000, backoffBaseMs: 20, stopGraceMs: 2_000 });
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await t.close();
    await endpoint.close();
  });

  describe('lifecycle', () => {
    it('runs tool → parks on approval → another manager approves → tool → succeeded, outputs flowing through', async () => {
      const res = await start(a.member, {
        draftVersionId: versions.flow,
        input: { customerId: 'c-42', amount: 250 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.headers.location).toBe(`/v1/runs/${res.body.id as string}`);
      expect(res.body).toMatchObject({
        status: 'queued',
        source: 'draft',
        templateId: versions.flow,
        input: { customerId: 'c-42', amount: 250 },
        currentStepIndex: 0,
        stepCount: 3,
        startedBy: { type: 'user', id: a.member.userId, userId: a.member.userId },
        parked: null,
      });
      expect(res.body.steps.map((s: { status: string }) => s.status)).toEqual([
        'pending',
        'pending',
        'pending',
      ]);
      const id = res.body.id as string;

      const parked = await waitForRun(t, a.member, id, ['parked', 'failed']);
      expect(parked.status).toBe('parked');
      expect(parked.parked).toMatchObject({
        stepId: 'approve',
        minRole: 'manager',
        prompt: 'Credit 250 to Customer c-42 (tier gold)?',
      });
      expect(Date.parse((parked.parked as { since: string }).since)).not.toBeNaN();
      expect(parked.steps).toMatchObject([
        {
          id: 'lookup',
          status: 'succeeded',
          attempts: 1,
          output: { name: 'Customer c-42', account: 'acc-c-42' },
        },
        { id: 'approve', status: 'waiting', kind: 'approval', minRole: 'manager' },
        { id: 'credit', status: 'pending', attempts: 0 },
      ]);
      // The call carried the interpolated input and a stable Idempotency-Key.
      const lookup = endpoint.on('/lookup').find((r) => r.headers['idempotency-key'] === `${id}:lookup`);
      expect(JSON.parse(lookup!.body)).toEqual({ customerId: 'c-42', amount: 250 });

      // Parked runs are listed by status.
      const list = await as(a.member).get('/v1/runs?status=parked');
      expect(list.body.data.map((r: { id: string }) => r.id)).toContain(id);

      const approved = await as(manager2).post(`/v1/runs/${id}/verdict`, {
        decision: 'approve',
        comment: 'Fine',
      });
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(approved.body.status).toMatch(/queued|running|succeeded/);
      const done = await waitForRun(t, a.member, id, ['succeeded', 'failed']);
      expect(done).toMatchObject({
        status: 'succeeded',
        currentStepIndex: 3,
        parked: null,
        failureReason: null,
      });
      expect(done.steps).toMatchObject([
        { id: 'lookup', status: 'succeeded' },
        { id: 'approve', status: 'approved' },
        {
          id: 'credit',
          status: 'succeeded',
          attempts: 1,
          output: { credited: { account: 'acc-c-42', amount: 250, note: 'ok' } },
        },
      ]);
      expect(done.verdicts).toEqual([
        expect.objectContaining({
          stepId: 'approve',
          decision: 'approve',
          comment: 'Fine',
          givenByUserId: manager2.userId,
        }),
      ]);
      expect(Date.parse(done.finishedAt as string)).not.toBeNaN();

      expect(
        (await timeline(t, a.member, id)).map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`),
      ).toEqual([
        'run.queued',
        'run.running:lookup',
        'step.started:lookup',
        'step.succeeded:lookup',
        'run.parked:approve',
        'run.verdict:approve',
        'run.resumed:approve',
        'run.running:credit',
        'step.started:credit',
        'step.succeeded:credit',
        'run.succeeded',
      ]);
      expect(await auditActions(id)).toEqual([
        'run.started',
        'run.running',
        'run.parked',
        'run.verdict_given',
        'run.resumed',
        'run.running',
        'run.succeeded',
      ]);
      // Worker transitions are written by the system principal, in the run's company.
      const actors = await t.owner.query(
        "select distinct actor_type, company_id from audit_events where target_id = $1 and action = 'run.succeeded'",
        [id],
      );
      expect(actors.rows).toEqual([{ actor_type: 'system', company_id: a.companyId }]);
    });

    it('ends a rejected run; a second verdict on the step answers 409; a rejection needs a comment', async () => {
      const id = await startOk(a.member, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      expectProblem(
        await as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'reject' }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'maybe', comment: 'x' }),
        400,
        'VALIDATION_FAILED',
      );
      const rejected = await as(a.manager).post(`/v1/runs/${id}/verdict`, {
        decision: 'reject',
        comment: 'Not now',
      });
      expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', parked: null });
      expect(rejected.body.steps[0]).toMatchObject({ status: 'rejected' });
      expectProblem(
        await as(manager2).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        409,
        'CONFLICT',
      );
      expectProblem(await as(a.member).post(`/v1/runs/${id}/cancel`), 409, 'CONFLICT');
      expect(await auditActions(id)).toEqual([
        'run.started',
        'run.running',
        'run.parked',
        'run.verdict_given',
        'run.rejected',
      ]);
    });

    it('gives exactly one of two concurrent verdicts on the same step (the other answers 409)', async () => {
      const id = await startOk(a.member, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const answers = await Promise.all([
        as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        as(manager2).post(`/v1/runs/${id}/verdict`, { decision: 'reject', comment: 'no' }),
        as(a.admin).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      const verdicts = await t.owner.query('select count(*)::int as n from run_verdicts where run_id = $1', [
        id,
      ]);
      expect(verdicts.rows[0].n).toBe(1);
    });

    it('runs a catalog template by templateId, validated against the catalog schema', async () => {
      const catalog = await as(a.member).get('/v1/templates?limit=1');
      const template = await as(a.member).get(`/v1/templates/${catalog.body.data[0].id as string}`);
      const res = await start(a.member, { templateId: template.body.id, input: {} });
      // Every catalog template requires some input.
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors.every((e: { field: string }) => e.field.startsWith('input.'))).toBe(true);
    });
  });

  describe('verdict roles and four-eyes', () => {
    it('lets members give no verdict: the item route answers 404 and audits the denial', async () => {
      const id = await startOk(a.manager, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const res = await as(a.member).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expectProblem(res, 404, 'NOT_FOUND');
      const missing = await as(a.member).post(`/v1/runs/${newId()}/verdict`, { decision: 'approve' });
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
      const denied = await t.owner.query(
        "select metadata from audit_events where action = 'authorization.denied' and target_id = $1",
        [id],
      );
      expect(denied.rows[0].metadata).toMatchObject({ action: 'verdict', role: 'member' });
    });

    it("answers 404 (audited) below the step's minRole, and lets an admin decide", async () => {
      const id = await startOk(a.member, { draftVersionId: versions.adminApproval });
      await waitForRun(t, a.member, id, ['parked']);
      const res = await as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expectProblem(res, 404, 'NOT_FOUND');
      const denied = await t.owner.query(
        "select metadata from audit_events where action = 'authorization.denied' and target_id = $1",
        [id],
      );
      expect(denied.rows[0].metadata).toMatchObject({
        action: 'verdict',
        route: 'POST /v1/runs/:id/verdict',
      });
      expect((await as(a.member).get(`/v1/runs/${id}`)).body.status).toBe('parked');
      const ok = await as(a.admin).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      await waitForRun(t, a.member, id, ['succeeded']);
    });

    it('forbids the starter to approve their own run (403) while four-eyes is on, and allows it when off', async () => {
      const id = await startOk(a.manager, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const own = await as(a.manager).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expectProblem(own, 403, 'FORBIDDEN');
      expect(own.body.detail).toMatch(/four-eyes/i);
      expect((await as(a.member).get(`/v1/runs/${id}`)).body.status).toBe('parked');
      // Another manager may.
      expect((await as(manager2).post(`/v1/runs/${id}/verdict`, { decision: 'approve' })).status).toBe(200);

      const off = await as(a.admin).patch(`/v1/companies/${a.companyId}`, { fourEyes: false });
      expect(off.status, JSON.stringify(off.body)).toBe(200);
      try {
        const mine = await startOk(a.manager, { draftVersionId: versions.approval });
        await waitForRun(t, a.member, mine, ['parked']);
        const self = await as(a.manager).post(`/v1/runs/${mine}/verdict`, { decision: 'approve' });
        expect(self.status, JSON.stringify(self.body)).toBe(200);
      } finally {
        expect((await as(a.admin).patch(`/v1/companies/${a.companyId}`, { fourEyes: true })).status).toBe(
          200,
        );
      }
    });

    it('holds four-eyes for applications too: an application cannot approve the run it started', async () => {
      const newApplication = async (name: string) => {
        const res = await t
          .http()
          .post('/v1/applications')
          .auth(a.owner.accessToken, { type: 'bearer' })
          .send({ name, role: 'manager' });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return {
          id: res.body.id as string,
          accessToken: await applicationToken(t, res.body as { clientId: string; clientSecret: string }),
        };
      };
      const robot = await newApplication('four-eyes robot');
      const other = await newApplication('four-eyes reviewer');
      const asApp = (app: { accessToken: string }) => ({
        post: (path: string, body?: object) =>
          t.http().post(path).auth(app.accessToken, { type: 'bearer' }).send(body),
      });
      const started = await asApp(robot).post('/v1/runs', { draftVersionId: versions.approval });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const id = started.body.id as string;
      // An application acts on behalf of its creator.
      expect(started.body.startedBy).toMatchObject({
        type: 'application',
        id: robot.id,
        userId: a.owner.userId,
      });
      await waitForRun(t, a.member, id, ['parked']);
      const own = await asApp(robot).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expectProblem(own, 403, 'FORBIDDEN');
      expect(own.body.detail).toMatch(/four-eyes/i);
      expect((await as(a.member).get(`/v1/runs/${id}`)).body).toMatchObject({
        status: 'parked',
        verdicts: [],
      });
      // A second application of the same owner is the same person; another person may approve.
      expectProblem(
        await asApp(other).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );
      const ok = await as(manager2).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.verdicts).toMatchObject([{ decision: 'approve', givenByUserId: manager2.userId }]);
      // Rejecting its own run stays allowed (four-eyes guards approvals).
      const second = (await asApp(robot).post('/v1/runs', { draftVersionId: versions.approval })).body
        .id as string;
      await waitForRun(t, a.member, second, ['parked']);
      const rejected = await asApp(robot).post(`/v1/runs/${second}/verdict`, {
        decision: 'reject',
        comment: 'not needed after all',
      });
      expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    });
  });

  describe('cancel', () => {
    it('lets the starter cancel their queued or parked run at once; others of their role get 404', async () => {
      const id = await startOk(a.member, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const other = await addMember(t, a.companyId, 'member');
      const otherMember: Actor = { ...other, role: 'member', ...(await login(t, other.email, a.slug)) };
      expectProblem(await as(otherMember).post(`/v1/runs/${id}/cancel`), 404, 'NOT_FOUND');
      const res = await as(a.member).post(`/v1/runs/${id}/cancel`, { reason: 'changed my mind' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'cancelled', parked: null });
      expect(res.body.steps[0].status).toBe('cancelled');
      expectProblem(await as(a.member).post(`/v1/runs/${id}/cancel`), 409, 'CONFLICT');
      const events = await timeline(t, a.member, id);
      expect(events.at(-1)).toMatchObject({
        type: 'run.cancelled',
        data: { by: a.member.userId, reason: 'changed my mind' },
      });
      expect(await auditActions(id)).toContain('run.cancelled');
    });

    it("lets a manager cancel anyone's run", async () => {
      const id = await startOk(a.member, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const res = await as(a.manager).post(`/v1/runs/${id}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
    });

    it('cancels a running run before its next step, abandoning the call in flight', async () => {
      const before = hanging.length;
      const id = await startOk(a.member, { draftVersionId: versions.hang });
      await waitFor(
        async () => hanging.length,
        (n) => n > before,
        'the hanging call',
      );
      const running = await as(a.member).get(`/v1/runs/${id}`);
      expect(running.body).toMatchObject({
        status: 'running',
        steps: [{ status: 'running', attempts: 1 }, {}],
      });
      const res = await as(a.member).post(`/v1/runs/${id}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.cancelRequestedAt).toEqual(expect.any(String));
      const done = await waitForRun(t, a.member, id, ['cancelled', 'succeeded', 'failed']);
      expect(done.status).toBe('cancelled');
      expect(done.steps).toMatchObject([{ status: 'cancelled' }, { status: 'pending' }]);
      // The second step never ran.
      expect(endpoint.on('/credit').some((r) => r.headers['idempotency-key'] === `${id}:after`)).toBe(false);
      expect((await timeline(t, a.member, id)).map((e) => e.type)).toEqual([
        'run.queued',
        'run.running',
        'step.started',
        'run.cancel_requested',
        'run.cancelled',
      ]);
      expect(await auditActions(id)).toEqual([
        'run.started',
        'run.running',
        'run.cancel_requested',
        'run.cancelled',
      ]);
    });
  });

  describe('failures and retries', () => {
    it('fails a run whose tool is not bound, saying so', async () => {
      const id = await startOk(a.member, { draftVersionId: versions.unbound });
      const run = await waitForRun(t, a.member, id, ['failed', 'succeeded']);
      expect(run).toMatchObject({
        status: 'failed',
        failureReason: 'Tool "erp.missing" is not bound to a connector',
        steps: [{ status: 'failed', attempts: 1, error: { reason: 'not_bound' } }],
      });
      expect(await auditActions(id)).toEqual(['run.started', 'run.running', 'run.failed']);
    });

    it('retries a retryable failure with the same Idempotency-Key, recording every attempt', async () => {
      flaky = 0;
      const id = await startOk(a.member, { draftVersionId: versions.flaky });
      const run = await waitForRun(t, a.member, id, ['succeeded', 'failed']);
      expect(run).toMatchObject({
        status: 'succeeded',
        steps: [{ status: 'succeeded', attempts: 3, output: { ok: true } }],
      });
      const calls = endpoint.on('/flaky').filter((r) => r.headers['idempotency-key'] === `${id}:flaky`);
      expect(calls).toHaveLength(3);
      const events = (await timeline(t, a.member, id)).filter((e) => e.type.startsWith('step.'));
      expect(events.map((e) => [e.type, e.data.attempt, e.data.willRetry])).toEqual([
        ['step.started', 1, undefined],
        ['step.failed', 1, true],
        ['step.started', 2, undefined],
        ['step.failed', 2, true],
        ['step.started', 3, undefined],
        ['step.succeeded', 3, undefined],
      ]);
      expect(events[1].data).toMatchObject({ reason: 'http_status', status: 503, retryable: true });
    });

    it('fails at once on a non-retryable error, and after the last retry on a retryable one', async () => {
      const bad = await startOk(a.member, { draftVersionId: versions.bad });
      expect(await waitForRun(t, a.member, bad, ['failed', 'succeeded'])).toMatchObject({
        status: 'failed',
        failureReason: 'Step "bad" failed: The endpoint answered 422',
        steps: [{ status: 'failed', attempts: 1, error: { reason: 'http_status', status: 422 } }],
      });
      const down = await startOk(a.member, { draftVersionId: versions.down });
      expect(await waitForRun(t, a.member, down, ['failed', 'succeeded'])).toMatchObject({
        status: 'failed',
        failureReason: 'Step "down" failed after 2 attempts: The endpoint answered 503',
        steps: [{ status: 'failed', attempts: 2 }],
      });
      expect(
        endpoint.on('/down').filter((r) => r.headers['idempotency-key'] === `${down}:down`),
      ).toHaveLength(2);
    });

    it('fails with a generic reason when the connector secret cannot be decrypted (a server fault)', async () => {
      const sealed = await as(a.admin).post('/v1/connectors', {
        toolId: 'svc.sealed',
        endpointUrl: endpoint.url('/sealed'),
        authScheme: 'bearer',
        secret: 'sealed-secret-0123456789',
      });
      const other = await as(a.admin).post('/v1/connectors', {
        toolId: 'svc.other',
        endpointUrl: endpoint.url('/sealed'),
        authScheme: 'bearer',
        secret: 'other-secret-0123456789',
      });
      // A ciphertext copied from another connector does not decrypt (it is bound to its row).
      await t.owner.query(
        'update connectors set secret_ciphertext = (select secret_ciphertext from connectors where id = $1) where id = $2',
        [other.body.id, sealed.body.id],
      );
      const id = await startOk(a.member, { draftVersionId: versions.secret });
      const run = await waitForRun(t, a.member, id, ['failed', 'succeeded']);
      expect(run.status).toBe('failed');
      expect(run.failureReason).toMatch(/could not be decrypted \(a server fault/);
      expect(JSON.stringify(run)).not.toContain('secret-0123456789');
      expect(endpoint.on('/sealed')).toHaveLength(0);
    });
  });

  describe('starting', () => {
    it('refuses a NUL (\\u0000) in any string or key of a body with a 400 naming the field, never a 500', async () => {
      const nulInput = await start(a.member, {
        draftVersionId: versions.flow,
        input: { customerId: 'a\u0000b' },
      });
      expectProblem(nulInput, 400, 'VALIDATION_FAILED');
      expect(nulInput.body.errors).toEqual([
        { field: 'input.customerId', message: expect.stringMatching(/NUL/) as string },
      ]);
      const nulKey = await start(a.member, {
        draftVersionId: versions.flow,
        input: { customerId: 'c-1', address: { 'zip\u0000': '12345' } },
      });
      expectProblem(nulKey, 400, 'VALIDATION_FAILED');
      expect(nulKey.body.errors).toEqual([
        { field: 'input.address', message: expect.stringMatching(/key containing a NUL/) as string },
      ]);
      // Nothing was started by either.
      const mine = await as(a.member).get('/v1/runs?limit=100');
      expect(mine.text).not.toContain('a\\u0000b');

      const id = await startOk(a.member, { draftVersionId: versions.approval });
      await waitForRun(t, a.member, id, ['parked']);
      const verdict = await as(a.manager).post(`/v1/runs/${id}/verdict`, {
        decision: 'reject',
        comment: 'no\u0000way',
      });
      expectProblem(verdict, 400, 'VALIDATION_FAILED');
      expect(verdict.body.errors).toEqual([{ field: 'comment', message: expect.any(String) as string }]);
      const cancel = await as(a.member).post(`/v1/runs/${id}/cancel`, { reason: '\u0000' });
      expectProblem(cancel, 400, 'VALIDATION_FAILED');
      expect(cancel.body.errors).toEqual([{ field: 'reason', message: expect.any(String) as string }]);
      expect((await as(a.member).get(`/v1/runs/${id}`)).body).toMatchObject({
        status: 'parked',
        verdicts: [],
      });
      // A NUL that arrives another way (the query string) reaches the database: still a 400, not a 500.
      expectProblem(await as(a.member).get('/v1/runs?startedBy=%00'), 400, 'VALIDATION_FAILED');
    });

    it('scrubs NUL from what an endpoint answers before storing it: its output and the prompt it fills in', async () => {
      const id = await startOk(a.member, { draftVersionId: versions.nulOutput });
      const run = await waitForRun(t, a.member, id, ['parked', 'failed', 'succeeded']);
      expect(run).toMatchObject({
        status: 'parked',
        parked: { stepId: 'check', prompt: 'Approve a\uFFFDb?' },
        steps: [
          { status: 'succeeded', attempts: 1, output: { name: 'a\uFFFDb', 'k\uFFFD': 1 } },
          { status: 'waiting' },
        ],
      });
      expect((await as(manager2).post(`/v1/runs/${id}/verdict`, { decision: 'approve' })).status).toBe(200);
      await waitForRun(t, a.member, id, ['succeeded']);
    });

    it('validates the input against the schema, naming each field under input.', async () => {
      const res = await start(a.member, {
        draftVersionId: versions.flow,
        input: { amount: 'lots', address: { zip: 'abc' }, extra: true },
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
      expect(fields).toEqual(['input.address.zip', 'input.amount', 'input.customerId', 'input.extra']);
      expectProblem(await start(a.member, { draftVersionId: versions.flow }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await start(a.member, { draftVersionId: versions.flow, input: [1] }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('needs exactly one of templateId and draftVersionId; unknown ids answer 404; unknown fields 400', async () => {
      expectProblem(await start(a.member, { input: {} }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await start(a.member, { templateId: newId(), draftVersionId: versions.approval }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(await start(a.member, { templateId: newId() }), 404, 'NOT_FOUND');
      expectProblem(await start(a.member, { draftVersionId: newId() }), 404, 'NOT_FOUND');
      expectProblem(await start(a.member, { draftVersionId: 'nope' }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await start(a.member, { draftVersionId: versions.approval, companyId: b.companyId }),
        400,
        'VALIDATION_FAILED',
      );
      // Another company's draft version is unknown here.
      expectProblem(await start(b.member, { draftVersionId: versions.approval }), 404, 'NOT_FOUND');
    });

    it('refuses to start from a version of an unpublished draft (409)', async () => {
      const created = await as(a.manager).post('/v1/drafts', {
        name: 'Soon unpublished',
        description: 'x',
        category: 'finance',
        inputSchema: { type: 'object' },
        steps: [approval('x')],
      });
      const published = await as(a.manager).post(`/v1/drafts/${created.body.id as string}/publish`);
      await as(a.manager).post(`/v1/drafts/${created.body.id as string}/unpublish`);
      expectProblem(
        await start(a.member, { draftVersionId: published.body.publishedVersionId }),
        409,
        'CONFLICT',
      );
    });

    it('replays a retried POST with the same Idempotency-Key; another body with that key answers 409', async () => {
      const key = `retry-${newId()}`;
      const body = { draftVersionId: versions.approval, input: {} };
      const first = await start(a.member, body, { 'Idempotency-Key': key });
      expect(first.status).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await start(a.member, body, { 'Idempotency-Key': key });
      expect(again.status).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      const other = await start(
        a.member,
        { draftVersionId: versions.flow, input: { customerId: 'x' } },
        { 'Idempotency-Key': key },
      );
      expectProblem(other, 409, 'CONFLICT');
      // Keys are per principal: another member's same key starts its own run.
      const mine = await start(manager2, body, { 'Idempotency-Key': key });
      expect(mine.status).toBe(202);
      expect(mine.body.id).not.toBe(first.body.id);
      expectProblem(
        await start(a.member, body, { 'Idempotency-Key': 'bad key with spaces' }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('starts one run for concurrent requests with one key; all of them answer it', async () => {
      const key = `race-${newId()}`;
      const body = { draftVersionId: versions.approval };
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => start(a.member, body, { 'Idempotency-Key': key })),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(8).fill(202));
      expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
      expect(answers.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
      const runs = await t.owner.query(
        "select count(*)::int as n from audit_events where action = 'run.started' and target_id = $1",
        [answers[0].body.id],
      );
      expect(runs.rows[0].n).toBe(1);
    });
  });

  describe('budget', () => {
    it('counts exactly under concurrent starts: budget 5, 20 at once → 5 × 202 and 15 × 429 BUDGET_EXCEEDED', async () => {
      const c = await createCompanySession(t, 'Runs Budget');
      const version = await publishDraft(t, c.manager, { steps: [approval('decide')] });
      const set = await client(t, c.admin).patch(`/v1/companies/${c.companyId}`, { monthlyRunBudget: 5 });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => client(t, c.member).post('/v1/runs', { draftVersionId: version })),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      for (const r of answers.filter((x) => x.status === 429)) {
        expectProblem(r, 429, 'BUDGET_EXCEEDED');
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      const usage = await t.owner.query('select month, count from run_budget_usage where company_id = $1', [
        c.companyId,
      ]);
      expect(usage.rows).toEqual([{ month: new Date().toISOString().slice(0, 7), count: 5 }]);
      const runs = await t.owner.query('select count(*)::int as n from runs where company_id = $1', [
        c.companyId,
      ]);
      expect(runs.rows[0].n).toBe(5);
      // The refused starts rolled back with their jobs: every job of the company is a job of one of its runs.
      const jobs = await t.owner.query<{ run_id: string; known: boolean }>(
        `select distinct j.data->>'runId' as run_id, exists (select 1 from runs r where r.id::text = j.data->>'runId') as known
           from pgboss.job j where j.name = 'runs' and j.data->>'companyId' = $1`,
        [c.companyId],
      );
      expect(jobs.rows).toHaveLength(5);
      expect(jobs.rows.every((j) => j.known)).toBe(true);
      // A replay does not count again; a budget of 0 refuses every start.
      await client(t, c.admin).patch(`/v1/companies/${c.companyId}`, { monthlyRunBudget: null });
      const key = { 'Idempotency-Key': `budget-${newId()}` };
      expect((await client(t, c.member).post('/v1/runs', { draftVersionId: version }, key)).status).toBe(202);
      expect((await client(t, c.member).post('/v1/runs', { draftVersionId: version }, key)).status).toBe(202);
      const after = await t.owner.query('select count from run_budget_usage where company_id = $1', [
        c.companyId,
      ]);
      expect(after.rows[0].count).toBe(6);
      await client(t, c.admin).patch(`/v1/companies/${c.companyId}`, { monthlyRunBudget: 0 });
      expectProblem(
        await client(t, c.member).post('/v1/runs', { draftVersionId: version }),
        429,
        'BUDGET_EXCEEDED',
      );
    });
  });

  describe('history', () => {
    it('lists newest first with filters and a cursor; pages the timeline oldest first', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++)
        ids.push(await startOk(a.admin, { draftVersionId: versions.adminApproval }));
      const byTemplate = await as(a.member).get(`/v1/runs?templateId=${versions.adminApproval}&limit=2`);
      expect(byTemplate.status).toBe(200);
      expect(byTemplate.body.data).toHaveLength(2);
      expect(byTemplate.body.data[0].id > byTemplate.body.data[1].id).toBe(true);
      expect(byTemplate.body.data[0]).not.toHaveProperty('input');
      const next = await as(a.member).get(
        `/v1/runs?templateId=${versions.adminApproval}&limit=2&cursor=${byTemplate.body.nextCursor as string}`,
      );
      expect(next.body.data.length).toBeGreaterThan(0);
      expect(next.body.data[0].id < byTemplate.body.data[1].id).toBe(true);
      const mine = await as(a.member).get(`/v1/runs?startedBy=${a.admin.userId}&limit=100`);
      expect(
        mine.body.data.every((r: { startedBy: { userId: string } }) => r.startedBy.userId === a.admin.userId),
      ).toBe(true);
      expect(mine.body.data.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(ids));
      // A user id in upper case is the same user.
      const upper = await as(a.member).get(`/v1/runs?startedBy=${a.admin.userId.toUpperCase()}&limit=100`);
      expect(upper.body.data).toEqual(mine.body.data);
      expectProblem(await as(a.member).get('/v1/runs?status=sleeping'), 400, 'VALIDATION_FAILED');

      await waitForRun(t, a.member, ids[0], ['parked']);
      const page1 = await as(a.member).get(`/v1/runs/${ids[0]}/events?limit=2`);
      expect(page1.body.data.map((e: { type: string }) => e.type)).toEqual(['run.queued', 'run.running']);
      const page2 = await as(a.member).get(
        `/v1/runs/${ids[0]}/events?limit=2&cursor=${page1.body.nextCursor as string}`,
      );
      expect(page2.body.data.map((e: { type: string }) => e.type)).toEqual(['run.parked']);
      expect(page2.body.nextCursor).toBeNull();
    });
  });

  describe('cross-tenant', () => {
    it("answers B's token on A's runs like missing runs, everywhere, with no A data; B's list never shows A", async () => {
      const id = await startOk(a.member, {
        draftVersionId: versions.flow,
        input: { customerId: 'secret-customer' },
      });
      await waitForRun(t, a.member, id, ['parked']);
      const probes = [
        (actor: Actor, runId: string) => as(actor).get(`/v1/runs/${runId}`),
        (actor: Actor, runId: string) => as(actor).get(`/v1/runs/${runId}/events`),
        (actor: Actor, runId: string) => as(actor).post(`/v1/runs/${runId}/verdict`, { decision: 'approve' }),
        (actor: Actor, runId: string) => as(actor).post(`/v1/runs/${runId}/cancel`),
      ];
      for (const probe of probes) {
        for (const role of ['owner', 'manager', 'member'] as const) {
          const foreign = await probe(b.as(role), id);
          const missing = await probe(b.as(role), newId());
          expect(foreign.status, foreign.text).toBe(404);
          expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(missing.body));
          expect(foreign.text).not.toContain('secret-customer');
          expect(foreign.text).not.toContain(id);
        }
      }
      const listB = await as(b.owner).get('/v1/runs?limit=100');
      expect(listB.status).toBe(200);
      expect(listB.text).not.toContain(id);
      expect(listB.text).not.toContain('secret-customer');
      const parkedB = await as(b.owner).get('/v1/runs?status=parked&limit=100');
      expect(parkedB.body.data).toEqual([]);
      // Still parked and untouched in A.
      const still = await as(a.member).get(`/v1/runs/${id}`);
      expect(still.body).toMatchObject({ status: 'parked', verdicts: [] });
      // B's own run of the same tool id calls B's endpoint, never A's.
      const bVersion = await publishDraft(t, b.manager, { steps: [tool('lookup', 'crm.lookup')] });
      const bRun = await startOk(b.member, { draftVersionId: bVersion });
      await waitForRun(t, b.member, bRun, ['succeeded', 'failed']);
      expect(endpoint.on('/lookup-b').map((r: ReceivedRequest) => r.headers['idempotency-key'])).toContain(
        `${bRun}:lookup`,
      );
    });
  });
});

const WORKER_TIMINGS = { pollIntervalMs: 50, leaseMs: 2_000, backoffBaseMs: 20, stopGraceMs: 5_000 };

/** A company with a cap, a tool bound to `path` of the endpoint, and a published one- or two-step process. */
async function company(
  t: TestApp,
  endpoint: TestEndpoint,
  name: string,
  options: { cap?: number; steps: Record<string, unknown>[]; tools: Record<string, string> },
): Promise<{ session: CompanySession; version: string }> {
  const session = await createCompanySession(t, name);
  if (options.cap) {
    const res = await client(t, session.admin).patch(`/v1/companies/${session.companyId}`, {
      maxConcurrentRuns: options.cap,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  for (const [toolId, path] of Object.entries(options.tools)) {
    await bindTool(t, session.admin, toolId, endpoint.url(path));
  }
  const version = await publishDraft(t, session.manager, { steps: options.steps });
  return { session, version };
}

describe('runs across workers', () => {
  let t1: TestApp;
  let t2: TestApp;
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    [t1, t2] = await Promise.all([startTestApp(), startTestApp()]);
    endpoint = await startTestEndpoint();
  });
  afterAll(async () => {
    await Promise.all([t1.close(), t2.close()]);
    await endpoint.close();
  });

  it('claims exactly up to the cap when many claims of one company race (the advisory lock)', async () => {
    const { session: c, version } = await company(t1, endpoint, 'Claims', {
      cap: 2,
      steps: [tool('noop', 'svc.noop')],
      tools: { 'svc.noop': '/noop' },
    });
    // Twelve queued runs without jobs (so no worker anywhere picks them up): copies of one started run.
    const first = await client(t1, c.member).post('/v1/runs', { draftVersionId: version });
    expect(first.status).toBe(202);
    await t1.owner.query("delete from pgboss.job where name = 'runs' and data->>'runId' = $1", [
      first.body.id,
    ]);
    const ids = Array.from({ length: 12 }, () => newId());
    for (const id of ids) {
      await t1.owner.query(
        `insert into runs (id, created_at, company_id, source, template_ref_id, draft_version_id, template_key,
                           template_version, template_name, step_count, definition, input, status,
                           current_step_index, started_by, started_by_type, started_by_user_id, updated_at)
         select $1, now(), company_id, source, template_ref_id, draft_version_id, template_key, template_version,
                template_name, step_count, definition, input, 'queued', 0, started_by, started_by_type,
                started_by_user_id, now()
           from runs where id = $2`,
        [id, first.body.id],
      );
    }
    const claimer = (instanceId: string): RunWorkerHandle => ({
      instanceId,
      settings: { leaseMs: 60_000, deferMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 10 },
      stopping: false,
      track: () => undefined,
      untrack: () => undefined,
    });
    const engines = [t1.app.get(RunEngine), t2.app.get(RunEngine)];
    const claimed = await Promise.all(
      ids.map((runId, i) =>
        engines[i % 2].claim({ companyId: c.companyId, runId }, claimer(`claimer-${i % 2}`)),
      ),
    );
    expect(claimed.filter((x) => x !== null)).toHaveLength(2);
    const counts = await t1.owner.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from runs where id = any($1) group by status order by status',
      [ids],
    );
    expect(counts.rows).toEqual([
      { status: 'queued', n: 10 },
      { status: 'running', n: 2 },
    ]);
    // Each refused claim left the run untouched and sent its job again for later.
    const deferred = await t1.owner.query(
      "select count(*)::int as n from pgboss.job where name = 'runs' and data->>'runId' = any($1) and start_after > now()",
      [ids],
    );
    expect(deferred.rows[0].n).toBe(10);
    await t1.owner.query("delete from pgboss.job where name = 'runs' and data->>'runId' = any($1)", [ids]);
    await t1.owner.query(
      "update runs set status = 'cancelled', lease_owner = null, lease_expires_at = null where company_id = $1",
      [c.companyId],
    );
  });

  it('fences out an earlier execution when the same worker claims its run again after its lease expired', async () => {
    let calls = 0;
    endpoint.handle('/refence', (_req, res) => {
      calls += 1;
      sendJson(res, 200, { call: calls });
    });
    const { session: c, version } = await company(t1, endpoint, 'Fence', {
      steps: [tool('charge', 'svc.charge')],
      tools: { 'svc.charge': '/refence' },
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    await t1.owner.query("delete from pgboss.job where name = 'runs' and data->>'runId' = $1", [id]);
    const engine = t1.app.get(RunEngine);
    const handle: RunWorkerHandle = {
      instanceId: 'one-worker',
      settings: { leaseMs: 60_000, deferMs: 1_000, backoffBaseMs: 10, backoffMaxMs: 10 },
      stopping: false,
      track: () => undefined,
      untrack: () => undefined,
    };
    const job = { companyId: c.companyId, runId: id };
    const first = await engine.claim(job, handle);
    expect(first?.next.kind).toBe('call');
    // The worker stalls past its lease; the same worker then gets the run's job again and re-claims it.
    await t1.owner.query("update runs set lease_expires_at = now() - interval '1 second' where id = $1", [
      id,
    ]);
    const second = await engine.claim(job, handle);
    expect(second?.next.kind).toBe('call');
    expect(second!.lease).not.toBe(first!.lease);
    // The stalled execution resumes: its call happens, but nothing it would record lands.
    await engine.execute(first!, handle, first!.next);
    expect(calls).toBe(1);
    expect((await client(t1, c.member).get(`/v1/runs/${id}`)).body).toMatchObject({
      status: 'running',
      steps: [{ status: 'running', attempts: 2 }],
    });
    await engine.execute(second!, handle, second!.next);
    const run = await waitForRun(t1, c.member, id, ['succeeded', 'failed']);
    expect(run).toMatchObject({ status: 'succeeded', steps: [{ attempts: 2, output: { call: 2 } }] });
    const events = await timeline(t1, c.member, id);
    expect(
      events.map((e) => `${e.type}${typeof e.data.attempt === 'number' ? `#${e.data.attempt}` : ''}`),
    ).toEqual([
      'run.queued',
      'run.running',
      'step.started#1',
      'step.interrupted#1',
      'run.retried',
      'run.running',
      'step.started#2',
      'step.succeeded#2',
      'run.succeeded',
    ]);
  });

  it('sends a job exactly when the transaction that sends it commits', async () => {
    const c = await createCompanySession(t1, 'Job atomicity');
    const tenancy = t1.app.get(TenancyService);
    const queue = t1.app.get(RunQueue);
    const jobsOf = async (runId: string) =>
      (
        await t1.owner.query(
          "select count(*)::int as n from pgboss.job where name = 'runs' and data->>'runId' = $1",
          [runId],
        )
      ).rows[0].n as number;
    const rolledBack = newId();
    await expect(
      tenancy.run(workerContext(c.companyId), (em) =>
        em.transactional(async (tx) => {
          await queue.enqueue(
            tx,
            { companyId: c.companyId, runId: rolledBack },
            { cap: 4, startAfter: new Date(Date.now() + 3_600_000) },
          );
          expect(await jobsOf(rolledBack)).toBe(0); // not visible before the commit
          throw new Error('the change failed after its job was sent');
        }),
      ),
    ).rejects.toThrow('the change failed');
    expect(await jobsOf(rolledBack)).toBe(0);
    const committed = newId();
    await tenancy.run(workerContext(c.companyId), (em) =>
      em.transactional((tx) =>
        queue.enqueue(
          tx,
          { companyId: c.companyId, runId: committed },
          { cap: 4, startAfter: new Date(Date.now() + 3_600_000) },
        ),
      ),
    );
    expect(await jobsOf(committed)).toBe(1);
    await t1.owner.query("delete from pgboss.job where name = 'runs' and data->>'runId' = $1", [committed]);
    // Outside a transaction there is nothing to send it with.
    await expect(
      tenancy.run(workerContext(c.companyId), (em) =>
        queue.enqueue(em, { companyId: c.companyId, runId: newId() }, { cap: 4 }),
      ),
    ).rejects.toThrow(/inside the transaction/);
  });

  it('takes the company lock only inside that company’s own context', async () => {
    const c = await createCompanySession(t1, 'Lock scope');
    const other = newId();
    const tenancy = t1.app.get(TenancyService);
    const claims = t1.app.get(RunClaims);
    await expect(
      tenancy.run(workerContext(c.companyId), (em) =>
        em.transactional((tx) => claims.lockCompany(tx, other)),
      ),
    ).rejects.toThrow(/own tenant context/);
    await expect(
      tenancy.run(workerContext(c.companyId), (em) => claims.lockCompany(em, c.companyId)),
    ).rejects.toThrow(/transaction/);
  });

  it('has no side door: without its own company the app role sees no run, whatever else the session says', async () => {
    const { session: c, version } = await company(t1, endpoint, 'Side door', {
      steps: [{ id: 'wait', kind: 'approval', name: 'Wait', minRole: 'manager', prompt: 'ok?' }],
      tools: {},
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await client(t1, c.member).post('/v1/runs', { draftVersionId: version });
      ids.push(res.body.id as string);
    }
    await t1.owner.query("delete from pgboss.job where name = 'runs' and data->>'runId' = any($1)", [ids]);
    const [expired, live, parked] = ids;
    await t1.owner.query(
      "update runs set status = 'running', lease_owner = 'gone', lease_expires_at = now() - interval '1 minute' where id = $1",
      [expired],
    );
    await t1.owner.query(
      "update runs set status = 'running', lease_owner = 'alive', lease_expires_at = now() + interval '1 hour' where id = $1",
      [live],
    );
    await t1.owner.query("update runs set status = 'parked' where id = $1", [parked]);

    const app = await t1.appRole.connect();
    try {
      const visible = async (sweep: boolean) => {
        await app.query('begin');
        if (sweep) await app.query("select set_config('app.run_sweep', 'on', true)");
        const { rows } = await app.query<{ id: string }>('select id from runs where company_id = $1', [
          c.companyId,
        ]);
        const updated = await app.query("update runs set failure_reason = 'x' where company_id = $1", [
          c.companyId,
        ]);
        const deleted = await app.query('delete from runs where company_id = $1', [c.companyId]);
        await app.query('rollback');
        return { ids: rows.map((r) => r.id), updated: updated.rowCount, deleted: deleted.rowCount };
      };
      expect(await visible(false)).toEqual({ ids: [], updated: 0, deleted: 0 });
      // Not even the runs a worker would have to recover (expired leases), whatever setting a session carries:
      // recovery happens from each run's own job, inside its own company.
      expect(await visible(true)).toEqual({ ids: [], updated: 0, deleted: 0 });
      // Another company's context opens nothing of this one either.
      await app.query('begin');
      await app.query("select set_config('app.company_id', $1, true)", [newId()]);
      expect((await app.query('select id from runs where company_id = $1', [c.companyId])).rows).toEqual([]);
      await app.query('rollback');
    } finally {
      app.release();
    }
    // A run's timeline and verdicts are history: the application role may add to them, never change them.
    for (const sql of [
      'update run_events set type = type where company_id = $1',
      'delete from run_events where company_id = $1',
      'update run_verdicts set comment = comment where company_id = $1',
      'delete from run_verdicts where company_id = $1',
    ]) {
      const client = await t1.appRole.connect();
      try {
        await client.query('begin');
        await client.query("select set_config('app.company_id', $1, true)", [c.companyId]);
        await expect(client.query(sql, [c.companyId]), sql).rejects.toThrow(/permission denied/);
      } finally {
        await client.query('rollback');
        client.release();
      }
    }
    await t1.owner.query(
      "update runs set status = 'cancelled', lease_owner = null, lease_expires_at = null where id = any($1)",
      [ids],
    );
  });

  it('never runs more than the cap of a company across two workers, and a backlog does not delay another company', async () => {
    const inFlight: Record<string, number> = { A: 0, B: 0 };
    const maxInFlight: Record<string, number> = { A: 0, B: 0 };
    let aSeenAtFirstB: number | undefined;
    const slow = (who: 'A' | 'B') => (_req: unknown, res: ServerResponse) => {
      if (who === 'B' && aSeenAtFirstB === undefined) aSeenAtFirstB = endpoint.on('/slow/A').length;
      inFlight[who] += 1;
      maxInFlight[who] = Math.max(maxInFlight[who], inFlight[who]);
      setTimeout(() => {
        inFlight[who] -= 1;
        sendJson(res, 200, { ok: true });
      }, 300);
    };
    endpoint.handle('/slow/A', slow('A'));
    endpoint.handle('/slow/B', slow('B'));
    const A = await company(t1, endpoint, 'Cap A', {
      cap: 2,
      steps: [tool('slow', 'svc.slow')],
      tools: { 'svc.slow': '/slow/A' },
    });
    const B = await company(t1, endpoint, 'Cap B', {
      cap: 2,
      steps: [tool('slow', 'svc.slow')],
      tools: { 'svc.slow': '/slow/B' },
    });
    const aRuns: string[] = [];
    for (let i = 0; i < 12; i++) {
      aRuns.push(
        (await client(t1, A.session.member).post('/v1/runs', { draftVersionId: A.version })).body
          .id as string,
      );
    }
    const bRuns: string[] = [];
    for (let i = 0; i < 3; i++) {
      bRuns.push(
        (await client(t2, B.session.member).post('/v1/runs', { draftVersionId: B.version })).body
          .id as string,
      );
    }

    // Sample the database too: the count of `running` runs per company, and which workers hold them.
    const maxRunning: Record<string, number> = {};
    const owners = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await t1.owner.query<{ company_id: string; n: number; owners: string[] }>(
          `select company_id, count(*)::int as n, array_agg(lease_owner) as owners from runs
            where status = 'running' and company_id = any($1) group by company_id`,
          [[A.session.companyId, B.session.companyId]],
        );
        for (const r of rows) {
          maxRunning[r.company_id] = Math.max(maxRunning[r.company_id] ?? 0, r.n);
          r.owners.forEach((o) => owners.add(o.split('#')[0]));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const w1 = t1.app.get(RunWorker);
    const w2 = t2.app.get(RunWorker);
    // Three slots each: fewer than the four the two companies could fill, so both workers must take part, and
    // each often has a free slot while the other claims (the race the company lock settles).
    w1.start({ ...WORKER_TIMINGS, concurrency: 3 });
    w2.start({ ...WORKER_TIMINGS, concurrency: 3 });
    try {
      for (const id of aRuns) await waitForRun(t1, A.session.member, id, ['succeeded', 'failed'], 60_000);
      for (const id of bRuns) await waitForRun(t1, B.session.member, id, ['succeeded', 'failed'], 60_000);
    } finally {
      sampling = false;
      await sampler;
    }
    // A's owner reads A's runs, and B's runs answer like missing ones.
    for (const id of aRuns) {
      expect((await client(t1, A.session.owner).get(`/v1/runs/${id}`)).status, id).toBe(200);
    }
    for (const id of bRuns) {
      expect((await client(t1, A.session.owner).get(`/v1/runs/${id}`)).status, id).toBe(404);
    }
    const statuses = await t1.owner.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from runs where id = any($1) group by status',
      [[...aRuns, ...bRuns]],
    );
    expect(statuses.rows).toEqual([{ status: 'succeeded', n: 15 }]);
    // The cap held at the endpoint and in the database, and was used in full.
    expect(maxInFlight.A).toBe(2);
    expect(maxInFlight.B).toBeLessThanOrEqual(2);
    expect(maxRunning[A.session.companyId]).toBe(2);
    expect(maxRunning[B.session.companyId]).toBeLessThanOrEqual(2);
    // Both workers took part.
    expect(owners).toEqual(new Set([w1.instanceId, w2.instanceId]));
    // B's first run started while A's backlog was still being worked off.
    expect(aSeenAtFirstB).toBeDefined();
    expect(aSeenAtFirstB!).toBeLessThan(12);
  }, 90_000);

  it('cancels a run executing in another process at that worker’s next lease renewal, abandoning its call', async () => {
    const w1 = t1.app.get(RunWorker);
    const w2 = t2.app.get(RunWorker);
    await Promise.all([w1.stop(), w2.stop()]);
    w2.start(WORKER_TIMINGS);
    const hanging: ServerResponse[] = [];
    endpoint.handle('/remote/hang', (_req, res) => hanging.push(res));
    const { session: c, version } = await company(t1, endpoint, 'Remote cancel', {
      steps: [tool('wait', 'svc.wait'), tool('next', 'svc.next')],
      tools: { 'svc.wait': '/remote/hang', 'svc.next': '/remote/next' },
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    await waitFor(
      async () => hanging.length,
      (n) => n > 0,
      'the call, from the other worker',
    );
    // Cancelled through the API of the first application: the run executes in the second one.
    const res = await client(t1, c.member).post(`/v1/runs/${id}/cancel`);
    expect(res.body).toMatchObject({ status: 'running', cancelRequestedAt: expect.any(String) });
    const run = await waitForRun(t1, c.member, id, ['cancelled', 'succeeded', 'failed']);
    expect(run).toMatchObject({
      status: 'cancelled',
      steps: [{ status: 'cancelled' }, { status: 'pending' }],
    });
    expect(endpoint.on('/remote/next')).toHaveLength(0);
    hanging.forEach((r) => r.destroy());
    await w2.stop();
    w1.start(WORKER_TIMINGS);
    w2.start(WORKER_TIMINGS);
  }, 60_000);

  it('hands a run back at the next step when its worker stops gracefully; another worker finishes it', async () => {
    const w1 = t1.app.get(RunWorker);
    const w2 = t2.app.get(RunWorker);
    await Promise.all([w1.stop(), w2.stop()]);
    w1.start(WORKER_TIMINGS);
    const arrived: string[] = [];
    endpoint.handle('/handback/slow', (req, res) => {
      arrived.push(req.headers['idempotency-key'] as string);
      setTimeout(() => sendJson(res, 200, { first: true }), 400);
    });
    const { session: c, version } = await company(t1, endpoint, 'Hand back', {
      steps: [tool('first', 'svc.first'), tool('second', 'svc.second')],
      tools: { 'svc.first': '/handback/slow', 'svc.second': '/handback/fast' },
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    await waitFor(
      async () => arrived.length,
      (n) => n > 0,
      'the first call',
    );
    await w1.stop();
    const released = await client(t1, c.member).get(`/v1/runs/${id}`);
    expect(released.body).toMatchObject({
      status: 'queued',
      currentStepIndex: 1,
      steps: [{ status: 'succeeded' }, { status: 'pending' }],
    });
    w2.start(WORKER_TIMINGS);
    await waitForRun(t1, c.member, id, ['succeeded']);
    expect(arrived).toEqual([`${id}:first`]);
    const types = (await timeline(t1, c.member, id)).map((e) => e.type);
    expect(types).toEqual([
      'run.queued',
      'run.running',
      'step.started',
      'step.succeeded',
      'run.released',
      'run.running',
      'step.started',
      'step.succeeded',
      'run.succeeded',
    ]);
    w1.start(WORKER_TIMINGS);
  }, 60_000);

  it('recovers at once a run whose call a stopping worker had to abandon; another worker retries it', async () => {
    const w1 = t1.app.get(RunWorker);
    const w2 = t2.app.get(RunWorker);
    await Promise.all([w1.stop(), w2.stop()]);
    w1.start({ ...WORKER_TIMINGS, stopGraceMs: 200 });
    const calls: string[] = [];
    const hanging: ServerResponse[] = [];
    endpoint.handle('/abandon', (req, res) => {
      calls.push(req.headers['idempotency-key'] as string);
      if (calls.length === 1) hanging.push(res);
      else sendJson(res, 200, { second: true });
    });
    const { session: c, version } = await company(t1, endpoint, 'Abandoned call', {
      steps: [tool('call', 'svc.call', { retries: 2 })],
      tools: { 'svc.call': '/abandon' },
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    await waitFor(
      async () => calls.length,
      (n) => n === 1,
      'the first call',
    );
    // The grace period ends with the call still in flight: its outcome is unknown, so the run is recovered
    // right away (attempt interrupted, retry recorded) instead of waiting for its lease to run out.
    await w1.stop();
    const handedBack = await client(t1, c.member).get(`/v1/runs/${id}`);
    expect(handedBack.body).toMatchObject({
      status: 'queued',
      steps: [{ status: 'interrupted', attempts: 1 }],
    });
    w2.start(WORKER_TIMINGS);
    await waitForRun(t1, c.member, id, ['succeeded']);
    expect(calls).toEqual([`${id}:call`, `${id}:call`]);
    const types = (await timeline(t1, c.member, id)).map((e) => e.type);
    expect(types).toEqual([
      'run.queued',
      'run.running',
      'step.started',
      'step.interrupted',
      'run.retried',
      'run.running',
      'step.started',
      'step.succeeded',
      'run.succeeded',
    ]);
    hanging.forEach((r) => r.destroy());
    w1.start(WORKER_TIMINGS);
  }, 60_000);

  it('fails a run whose worker stopped during the last attempt of a step (recorded as interrupted)', async () => {
    const hanging: ServerResponse[] = [];
    endpoint.handle('/last/hang', (_req, res) => hanging.push(res));
    const { session: c, version } = await company(t1, endpoint, 'Last attempt', {
      steps: [tool('only', 'svc.only', { retries: 0 })],
      tools: { 'svc.only': '/last/hang' },
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    await waitFor(
      async () => hanging.length,
      (n) => n > 0,
      'the call',
    );
    // The worker loses its lease (as if it had stalled past it and another process took over).
    await t1.owner.query(
      "update runs set lease_owner = 'stalled-worker', lease_expires_at = now() - interval '1 second' where id = $1",
      [id],
    );
    // Its job is delivered again (pg-boss does so once the stalled worker's heartbeats stop) and handled by
    // another worker, in the run's own company: the claim finds the lease expired and recovers the run.
    await t2.app.get(RunEngine).process({ companyId: c.companyId, runId: id }, t2.app.get(RunWorker));
    const run = await waitForRun(t1, c.member, id, ['failed']);
    expect(run).toMatchObject({
      failureReason:
        'Step "only" was interrupted during its last attempt (1 of 1): the worker executing it stopped',
      steps: [{ status: 'failed', attempts: 1, error: { reason: 'interrupted' } }],
    });
    const types = (await timeline(t1, c.member, id)).map((e) => e.type);
    expect(types).toEqual(['run.queued', 'run.running', 'step.started', 'step.interrupted', 'run.failed']);
    hanging.forEach((r) => r.destroy());
  }, 60_000);

  it('recovers a run whose worker process was killed mid-step: the attempt is marked interrupted and retried', async () => {
    // Only the worker process about to be killed may take the job.
    await t1.app.get(RunWorker).stop();
    await t2.app.get(RunWorker).stop();
    const calls: string[] = [];
    const hanging: ServerResponse[] = [];
    endpoint.handle('/crash', (req, res) => {
      calls.push(req.headers['idempotency-key'] as string);
      if (calls.length === 1) hanging.push(res);
      else sendJson(res, 200, { done: calls.length });
    });
    const { session: c, version } = await company(t1, endpoint, 'Crash', {
      steps: [tool('charge', 'svc.charge', { retries: 2 })],
      tools: { 'svc.charge': '/crash' },
    });

    const child = await startWorkerProcess();
    let killed = false;
    try {
      const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
      await waitFor(
        async () => calls.length,
        (n) => n === 1,
        'the first call, from the worker process',
        30_000,
      );
      const during = await client(t1, c.member).get(`/v1/runs/${id}`);
      expect(during.body).toMatchObject({ status: 'running', steps: [{ status: 'running', attempts: 1 }] });
      child.kill('SIGKILL');
      killed = true;

      // The dead worker's job stops being heart-beaten; pg-boss's supervision fails it and delivers it again,
      // and another worker (this process) recovers the run once its lease has expired. The heartbeat is aged
      // here so the test need not wait out its 20 seconds.
      t1.app.get(RunWorker).start(WORKER_TIMINGS);
      await t1.owner.query(
        `update pgboss.job set heartbeat_on = now() - interval '1 hour'
          where name = 'runs' and state = 'active' and data->>'runId' = $1`,
        [id],
      );
      await t1.app.get(RunQueue).supervise();
      const run = await waitForRun(t1, c.member, id, ['succeeded', 'failed']);
      expect(run).toMatchObject({
        status: 'succeeded',
        steps: [{ status: 'succeeded', attempts: 2, output: { done: 2 } }],
      });
      // The side effect was repeated once, with the same key, and only after the retry was recorded.
      expect(calls).toEqual([`${id}:charge`, `${id}:charge`]);
      const events = await timeline(t1, c.member, id);
      expect(
        events.map((e) => `${e.type}${typeof e.data.attempt === 'number' ? `#${e.data.attempt}` : ''}`),
      ).toEqual([
        'run.queued',
        'run.running',
        'step.started#1',
        'step.interrupted#1',
        'run.retried',
        'run.running',
        'step.started#2',
        'step.succeeded#2',
        'run.succeeded',
      ]);
      expect(events.find((e) => e.type === 'run.retried')?.data).toMatchObject({
        stepId: 'charge',
        interruptedAttempt: 1,
        nextAttempt: 2,
      });
      const audit = await t1.owner.query<{ action: string }>(
        'select action from audit_events where target_id = $1 order by seq',
        [id],
      );
      expect(audit.rows.map((r) => r.action)).toEqual([
        'run.started',
        'run.running',
        'run.retried',
        'run.running',
        'run.succeeded',
      ]);
    } finally {
      if (!killed) child.kill('SIGKILL');
      hanging.forEach((r) => r.destroy());
    }
  }, 90_000);

  it('applies a raised maxConcurrentRuns to the runs already queued', async () => {
    const w1 = t1.app.get(RunWorker);
    const w2 = t2.app.get(RunWorker);
    await Promise.all([w1.stop(), w2.stop()]);
    let inFlight = 0;
    let maxInFlight = 0;
    endpoint.handle('/raise', (_req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        sendJson(res, 200, { ok: true });
      }, 300);
    });
    const { session: c, version } = await company(t1, endpoint, 'Raise', {
      cap: 1,
      steps: [tool('slow', 'svc.slow')],
      tools: { 'svc.slow': '/raise' },
    });
    // A backlog queued under cap 1, while no worker runs.
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push((await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string);
    }
    const raised = await client(t1, c.admin).patch(`/v1/companies/${c.companyId}`, { maxConcurrentRuns: 4 });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    const tiers = await t1.owner.query<{ tier: string; n: number }>(
      `select group_tier as tier, count(*)::int as n from pgboss.job
        where name = 'runs' and state < 'active' and data->>'companyId' = $1 group by group_tier`,
      [c.companyId],
    );
    expect(tiers.rows).toEqual([{ tier: '4', n: 8 }]);
    w1.start({ ...WORKER_TIMINGS, concurrency: 8 });
    for (const id of ids) await waitForRun(t1, c.member, id, ['succeeded', 'failed'], 60_000);
    const statuses = await t1.owner.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from runs where id = any($1) group by status',
      [ids],
    );
    expect(statuses.rows).toEqual([{ status: 'succeeded', n: 8 }]);
    // The backlog ran at the new cap: in full, and never above it.
    expect(maxInFlight).toBe(4);
  }, 90_000);

  it('parks a run whose stored input holds a NUL, scrubbed from the prompt (it used to stay queued forever)', async () => {
    const w1 = t1.app.get(RunWorker);
    await Promise.all([w1.stop(), t2.app.get(RunWorker).stop()]);
    const c = await createCompanySession(t1, 'Stored NUL');
    const version = await publishDraft(t1, c.manager, {
      inputSchema: { type: 'object', properties: { s: { type: 'string' } } },
      steps: [{ id: 'ok', kind: 'approval', name: 'OK?', minRole: 'manager', prompt: 'Pay {{input.s}}?' }],
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    // Stored before the API refused NUL (the `json` column keeps it as the escape \u0000).
    await t1.owner.query(`update runs set input = '{"s": "a\\u0000b"}'::json where id = $1`, [id]);
    w1.start(WORKER_TIMINGS);
    const run = await waitForRun(t1, c.member, id, ['parked', 'failed']);
    expect(run).toMatchObject({ status: 'parked', parked: { prompt: 'Pay a\uFFFDb?' } });
  }, 60_000);

  it('fails a run whose job keeps failing with an unexpected error, after a bounded number of attempts', async () => {
    const w1 = t1.app.get(RunWorker);
    await Promise.all([w1.stop(), t2.app.get(RunWorker).stop()]);
    const { session: c, version } = await company(t1, endpoint, 'Stuck', {
      steps: [{ id: 'wait', kind: 'approval', name: 'Wait', minRole: 'manager', prompt: 'ok?' }],
      tools: {},
    });
    const id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
    // The database refuses to let this run become `running` (as it would refuse a value it cannot store): every
    // claim of the run fails, the same way, on every attempt of its job.
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a uuid: ${id}`);
    const trigger = `test_refuse_claim_${id.slice(-12)}`;
    await t1.owner.query(
      `create function ${trigger}() returns trigger language plpgsql as $$
       begin raise exception 'claim refused by the test'; end $$`,
    );
    let run: Record<string, unknown>;
    try {
      await t1.owner.query(
        `create trigger ${trigger} before update on runs for each row
         when (new.id = '${id}'::uuid and new.status = 'running') execute function ${trigger}()`,
      );
      w1.start({ ...WORKER_TIMINGS, jobFaultLimit: 2 });
      run = await waitForRun(t1, c.member, id, ['failed', 'parked'], 30_000);
    } finally {
      await t1.owner.query(`drop trigger if exists ${trigger} on runs`);
      await t1.owner.query(`drop function if exists ${trigger}()`);
    }
    expect(run).toMatchObject({
      status: 'failed',
      failureReason: STUCK_RUN_REASON,
      steps: [{ status: 'pending' }],
    });
    expect((await timeline(t1, c.member, id)).map((e) => e.type)).toEqual(['run.queued', 'run.failed']);
    const audit = await t1.owner.query<{ action: string; metadata: Record<string, unknown> }>(
      'select action, metadata from audit_events where target_id = $1 order by seq',
      [id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['run.started', 'run.failed']);
    expect(audit.rows[1].metadata).toMatchObject({ reason: STUCK_RUN_REASON });
    // Its job ended with the run, after two attempts, instead of being retried until pg-boss gives up.
    const jobs = await t1.owner.query<{ state: string; retry_count: number }>(
      "select state, retry_count from pgboss.job where name = 'runs' and data->>'runId' = $1",
      [id],
    );
    expect(jobs.rows).toEqual([{ state: 'completed', retry_count: 1 }]);
  }, 60_000);

  it('hands a run back, its attempt uncounted, when its worker holds another master key; a worker with the right one runs it', async () => {
    const w1 = t1.app.get(RunWorker);
    await Promise.all([w1.stop(), t2.app.get(RunWorker).stop()]);
    endpoint.handle('/keyed', (_req, res) => sendJson(res, 200, { done: true }));
    const c = await createCompanySession(t1, 'Stale key');
    const connector = await client(t1, c.admin).post('/v1/connectors', {
      toolId: 'svc.keyed',
      endpointUrl: endpoint.url('/keyed'),
      authScheme: 'bearer',
      secret: 'keyed-secret-0123456789',
    });
    expect(connector.status, JSON.stringify(connector.body)).toBe(201);
    const version = await publishDraft(t1, c.manager, { steps: [tool('call', 'svc.keyed', { retries: 0 })] });
    // Another master key than the one the company's data key is wrapped by (the suite's: 32 × 0x07).
    const stale = await startTestApp({ TENANTRY_MASTER_KEY: Buffer.alloc(32, 8).toString('base64') });
    let id: string;
    try {
      stale.app.get(RunWorker).start({ ...WORKER_TIMINGS, unavailableRetryMs: 60_000 });
      id = (await client(t1, c.member).post('/v1/runs', { draftVersionId: version })).body.id as string;
      await waitFor(
        async () => (await timeline(t1, c.member, id)).map((e) => e.type),
        (types) => types.includes('run.released'),
        'the run handed back',
      );
      await stale.app.get(RunWorker).stop();
    } finally {
      await stale.close();
    }
    const waiting = await client(t1, c.member).get(`/v1/runs/${id}`);
    expect(waiting.body).toMatchObject({ status: 'queued', steps: [{ status: 'retrying', attempts: 0 }] });
    expect(endpoint.on('/keyed')).toHaveLength(0);
    const audit = await t1.owner.query<{ action: string; metadata: Record<string, unknown> }>(
      "select action, metadata from audit_events where target_id = $1 and action = 'run.released'",
      [id],
    );
    expect(audit.rows).toEqual([
      { action: 'run.released', metadata: { stepId: 'call', reason: 'secret_unavailable' } },
    ]);
    // Its job waits (a minute here); a worker with the right key takes it once due.
    await t1.owner.query(
      "update pgboss.job set start_after = now() where name = 'runs' and state = 'created' and data->>'runId' = $1",
      [id],
    );
    w1.start(WORKER_TIMINGS);
    const run = await waitForRun(t1, c.member, id, ['succeeded', 'failed']);
    // Its one attempt is the only one counted, though the step was started twice: retries: 0 still allowed it.
    expect(run).toMatchObject({ status: 'succeeded', steps: [{ status: 'succeeded', attempts: 1 }] });
    expect(endpoint.on('/keyed')).toHaveLength(1);
    expect(
      (await timeline(t1, c.member, id)).map(
        (e) => `${e.type}${typeof e.data.attempt === 'number' ? `#${e.data.attempt}` : ''}`,
      ),
    ).toEqual([
      'run.queued',
      'run.running',
      'step.started#1',
      'step.failed#1',
      'run.released',
      'run.running',
      'step.started#1',
      'step.succeeded#1',
      'run.succeeded',
    ]);
  }, 60_000);
});

/** Starts `src/worker.ts` as a separate process against the test database; resolves once it works. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'src/worker.ts', '--lease-ms', '2000', '--poll-ms', '50'],
    {
      cwd: process.cwd(),
      env: {
        ...process.env,
        DATABASE_URL: inject('ownerUrl'),
        DATABASE_APP_URL: inject('appUrl'),
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Tenantry worker running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${String(code)}):\n${output}`));
    });
  });
  return child;
}
