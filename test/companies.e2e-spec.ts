import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companiesCommand } from '../src/cli/commands/companies.command.js';
import { CompanyPurgeService } from '../src/companies/company-purge.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
import { drainMail, invitationLink, readOutbox, tempOutbox } from './harness/mail.js';
import { expectProblem } from './harness/problem.js';
import { client, publishDraft } from './harness/runs.js';
import {
  createCompanySession,
  grantPlatformAdmin,
  login,
  registerCompany,
  TEST_PASSWORD,
  uniqueEmail,
  type CompanySession,
} from './harness/session.js';

describe('companies', () => {
  let t: TestApp;
  let outbox: string;
  let a: CompanySession;
  let b: CompanySession;

  const get = (s: CompanySession, token: string) =>
    t.http().get(`/v1/companies/${s.companyId}`).auth(token, { type: 'bearer' });
  const patch = (s: CompanySession, token: string, body: Record<string, unknown>) =>
    t.http().patch(`/v1/companies/${s.companyId}`).auth(token, { type: 'bearer' }).send(body);
  const del = (s: CompanySession, token: string) =>
    t.http().delete(`/v1/companies/${s.companyId}`).auth(token, { type: 'bearer' });
  const restore = (s: CompanySession, token: string) =>
    t.http().post(`/v1/companies/${s.companyId}/restore`).auth(token, { type: 'bearer' });

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox });
    a = await createCompanySession(t, 'Companies A');
    b = await createCompanySession(t, 'Companies B');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets every member read the company and its settings', async () => {
    for (const role of ['owner', 'admin', 'manager', 'member'] as const) {
      const res = await get(a, a.as(role).accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: a.companyId,
        name: 'Companies A',
        slug: a.slug,
        rateLimitPerMinute: null,
        userRateLimitPerMinute: null,
        maxConcurrentRuns: 4,
        monthlyRunBudget: null,
        fourEyes: true,
        operatorAccess: 'open',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        deletionRequestedAt: null,
        purgeAfter: null,
      });
    }
  });

  it('lets admins change the name and settings within their ranges, audited, and applies the rate limit at once', async () => {
    const c = await createCompanySession(t, 'Companies Settings');
    const res = await patch(c, c.admin.accessToken, {
      name: '  Renamed Co  ',
      rateLimitPerMinute: 5000,
      maxConcurrentRuns: 10,
      monthlyRunBudget: 0,
      fourEyes: false,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Renamed Co',
      slug: c.slug,
      rateLimitPerMinute: 5000,
      maxConcurrentRuns: 10,
      monthlyRunBudget: 0,
      fourEyes: false,
    });
    const next = await get(c, c.member.accessToken);
    expect(next.headers['ratelimit-limit']).toBe('5000');
    const audit = await t.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'company.updated'",
      [c.companyId],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].metadata.fields.sort()).toEqual(
      ['fourEyes', 'maxConcurrentRuns', 'monthlyRunBudget', 'name', 'rateLimitPerMinute'].sort(),
    );
    expect(audit.rows[0].metadata.changes.maxConcurrentRuns).toEqual({ from: 4, to: 10 });

    // null restores the defaults where a setting is nullable; the owner may change settings too.
    const cleared = await patch(c, c.owner.accessToken, { rateLimitPerMinute: null, monthlyRunBudget: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ rateLimitPerMinute: null, monthlyRunBudget: null });
    expect((await get(c, c.member.accessToken)).headers['ratelimit-limit']).toBe(
      String(t.config.rateLimit.perMinute),
    );
    // The same values again change (and audit) nothing.
    expect((await patch(c, c.owner.accessToken, { maxConcurrentRuns: 10 })).status).toBe(200);
    const count = await t.owner.query(
      "select count(*)::int as n from audit_events where company_id = $1 and action = 'company.updated'",
      [c.companyId],
    );
    expect(count.rows[0].n).toBe(2);
  });

  it('refuses settings out of range, wrong types and undeclared fields (400), and managers and members (403)', async () => {
    const bad: Record<string, unknown>[] = [
      {},
      { rateLimitPerMinute: 9 },
      { rateLimitPerMinute: 100_001 },
      { rateLimitPerMinute: 12.5 },
      { maxConcurrentRuns: 0 },
      { maxConcurrentRuns: 101 },
      { maxConcurrentRuns: null },
      { monthlyRunBudget: -1 },
      { monthlyRunBudget: 10_000_001 },
      { monthlyRunBudget: '5' },
      { fourEyes: 'yes' },
      { name: '   ' },
      { name: null },
      { name: 'x'.repeat(201) },
      { slug: 'taken' },
      { companyId: b.companyId, name: 'X' },
      { purgeAfter: null },
    ];
    for (const body of bad) {
      expectProblem(await patch(a, a.admin.accessToken, body), 400, 'VALIDATION_FAILED');
    }
    for (const role of ['manager', 'member'] as const) {
      expectProblem(await patch(a, a.as(role).accessToken, { name: 'Hijacked' }), 403, 'FORBIDDEN');
    }
    expect((await get(a, a.member.accessToken)).body).toMatchObject({
      name: 'Companies A',
      maxConcurrentRuns: 4,
    });
  });

  it('schedules deletion (owner only), blocks the company meanwhile, and restores it within the grace window', async () => {
    const c = await createCompanySession(t, 'Companies Deletion');
    const inviteeEmail = uniqueEmail('invitee');
    const invitation = await t
      .http()
      .post(`/v1/companies/${c.companyId}/invitations`)
      .auth(c.admin.accessToken, { type: 'bearer' })
      .send({ email: inviteeEmail, role: 'member' });
    expect(invitation.status).toBe(201);
    await drainMail(t);
    for (const role of ['admin', 'manager', 'member'] as const) {
      expectProblem(await del(c, c.as(role).accessToken), 403, 'FORBIDDEN');
    }
    const res = await del(c, c.owner.accessToken);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const days = (Date.parse(res.body.purgeAfter as string) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(res.body.deletionRequestedAt).toEqual(expect.any(String));
    // Idempotent: the schedule does not move.
    const again = await del(c, c.owner.accessToken);
    expect(again.status).toBe(202);
    expect(again.body.purgeAfter).toBe(res.body.purgeAfter);

    // Meanwhile only Company and Session routes answer; other members cannot sign in.
    expectProblem(
      await t
        .http()
        .get(`/v1/companies/${c.companyId}/members`)
        .auth(c.owner.accessToken, { type: 'bearer' }),
      403,
      'FORBIDDEN',
    );
    expect((await get(c, c.member.accessToken)).body.purgeAfter).toBe(res.body.purgeAfter);
    expectProblem(
      await t
        .http()
        .post('/v1/auth/login')
        .send({ email: c.member.email, password: TEST_PASSWORD, companySlug: c.slug }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await restore(c, c.admin.accessToken), 403, 'FORBIDDEN');
    // Invitations of a company being deleted cannot be accepted (nor created: only Company routes answer).
    const accepted = await t
      .http()
      .post('/v1/invitations/accept')
      .send({ token: invitationLink(outbox, inviteeEmail).token, name: 'Late', password: TEST_PASSWORD });
    expectProblem(accepted, 409, 'CONFLICT');
    expectProblem(
      await t
        .http()
        .post(`/v1/companies/${c.companyId}/invitations`)
        .auth(c.owner.accessToken, { type: 'bearer' })
        .send({ email: uniqueEmail(), role: 'member' }),
      403,
      'FORBIDDEN',
    );

    const restored = await restore(c, c.owner.accessToken);
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body).toMatchObject({ purgeAfter: null, deletionRequestedAt: null });
    expectProblem(await restore(c, c.owner.accessToken), 409, 'CONFLICT');
    expect(
      (
        await t
          .http()
          .get(`/v1/companies/${c.companyId}/members`)
          .auth(c.member.accessToken, { type: 'bearer' })
      ).status,
    ).toBe(200);
    const audit = await t.owner.query<{ action: string }>(
      "select action from audit_events where company_id = $1 and action like 'company.deletion%' order by seq",
      [c.companyId],
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'company.deletion_scheduled',
      'company.deletion_cancelled',
    ]);

    // After the grace window it cannot be restored any more.
    expect((await del(c, c.owner.accessToken)).status).toBe(202);
    await t.owner.query("update companies set purge_after = now() - interval '1 minute' where id = $1", [
      c.companyId,
    ]);
    expectProblem(await restore(c, c.owner.accessToken), 409, 'CONFLICT');
  });

  it('does not let a switched-in platform operator delete or restore a company', async () => {
    const home = await registerCompany(t, 'Companies Operator Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const operator = await login(t, home.owner.email);
    const switched = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator.accessToken, { type: 'bearer' })
      // Write mode, so the refusals below come from the operator's own limits, not the read-only default.
      .send({ reason: 'Ticket 1234: customer asked for help', mode: 'write' });
    expect(switched.status).toBe(201);
    const token = switched.body.accessToken as string;
    expect((await get(a, token)).status).toBe(200);
    expectProblem(await del(a, token), 403, 'FORBIDDEN');
    expectProblem(await restore(a, token), 403, 'FORBIDDEN');
    expect((await get(a, a.owner.accessToken)).body.purgeAfter).toBeNull();
  });

  it("answers 404 with no data for another company's id, on every route", async () => {
    for (const req of [
      t.http().get(`/v1/companies/${a.companyId}`),
      t.http().patch(`/v1/companies/${a.companyId}`).send({ name: 'Taken over' }),
      t.http().delete(`/v1/companies/${a.companyId}`),
      t.http().post(`/v1/companies/${a.companyId}/restore`),
      t.http().get('/v1/companies/01900000-0000-7000-8000-000000000000'),
    ]) {
      const res = await req.auth(b.owner.accessToken, { type: 'bearer' });
      expectProblem(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain('Companies A');
      expect(JSON.stringify(res.body)).not.toContain(a.slug);
    }
    expect((await get(a, a.owner.accessToken)).body).toMatchObject({ name: 'Companies A', purgeAfter: null });
  });

  it('purges a company after its grace window: no row of it remains in any table with a company_id', async () => {
    const doomed = await createCompanySession(t, 'Companies Doomed');
    const waiting = await createCompanySession(t, 'Companies Waiting');
    // Rows in every tenant table we can reach: memberships, refresh tokens, audit events and chain head
    // (registration, logins), invitations, an accepted invitation's membership, invitation mails (sent and
    // not), a run and its queued job.
    const invite = (email: string) =>
      t
        .http()
        .post(`/v1/companies/${doomed.companyId}/invitations`)
        .auth(doomed.admin.accessToken, { type: 'bearer' })
        .send({ email, role: 'member' });
    const pendingEmail = uniqueEmail('pending');
    const pending = await invite(pendingEmail);
    expect(pending.status).toBe(201);
    const resent = await t
      .http()
      .post(`/v1/companies/${doomed.companyId}/invitations/${pending.body.id}/resend`)
      .auth(doomed.admin.accessToken, { type: 'bearer' });
    expect(resent.status).toBe(200);
    const joinerEmail = uniqueEmail('joiner');
    expect((await invite(joinerEmail)).status).toBe(201);
    await drainMail(t);
    const joined = await t
      .http()
      .post('/v1/invitations/accept')
      .send({ token: invitationLink(outbox, joinerEmail).token, name: 'Joiner', password: TEST_PASSWORD });
    expect(joined.status).toBe(201);
    // A mail still waiting in the outbox: its body holds a live invitation link.
    const undeliveredEmail = uniqueEmail('undelivered');
    expect((await invite(undeliveredEmail)).status).toBe(201);
    // A queued run job in each company (the worker is off in tests, so the jobs wait in pg-boss).
    const queueRun = async (s: CompanySession) => {
      const version = await publishDraft(t, s.manager, {
        steps: [{ id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
      });
      const run = await client(t, s.member).post('/v1/runs', { draftVersionId: version });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
    };
    await queueRun(doomed);
    await queueRun(waiting);
    const jobsOf = async (companyId: string) =>
      (
        await t.owner.query<{ n: number }>(
          "select count(*)::int as n from pgboss.job where data->>'companyId' = $1 or group_id = $1",
          [companyId],
        )
      ).rows[0].n;
    expect(await jobsOf(doomed.companyId)).toBeGreaterThan(0);
    const waitingJobs = await jobsOf(waiting.companyId);
    expect(waitingJobs).toBeGreaterThan(0);
    const mailTo = async (emails: string[]) =>
      (
        await t.owner.query<{ n: number }>(
          'select count(*)::int as n from mail_outbox where recipient = any($1)',
          [emails],
        )
      ).rows[0].n;
    const doomedEmails = [pendingEmail, joinerEmail, undeliveredEmail];
    expect(await mailTo(doomedEmails)).toBe(4);

    const { rows: tables } = await t.owner.query<{ table_name: string }>(
      `select table_name from information_schema.columns
        where table_schema = 'public' and column_name = 'company_id' order by table_name`,
    );
    const countIn = async (companyId: string) => {
      const counts: Record<string, number> = {};
      for (const { table_name } of tables) {
        const { rows } = await t.owner.query<{ n: number }>(
          `select count(*)::int as n from "${table_name}" where company_id = $1`,
          [companyId],
        );
        counts[table_name] = rows[0].n;
      }
      return counts;
    };
    const before = await countIn(doomed.companyId);
    for (const table of [
      'memberships',
      'refresh_tokens',
      'audit_events',
      'audit_chain_heads',
      'invitations',
      'invitation_sends',
      'mail_outbox',
      'runs',
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }

    expect((await del(doomed, doomed.owner.accessToken)).status).toBe(202);
    expect((await del(waiting, waiting.owner.accessToken)).status).toBe(202);
    const purge = t.app.get(CompanyPurgeService);
    // Within the grace window nothing is purged.
    expect(await purge.purgeDue()).not.toContain(doomed.companyId);
    // As the database owner, move the doomed company's window into the past.
    await t.owner.query("update companies set purge_after = now() - interval '1 minute' where id = $1", [
      doomed.companyId,
    ]);
    const purged = await purge.purgeDue();
    expect(purged).toContain(doomed.companyId);
    expect(purged).not.toContain(waiting.companyId);

    const after = await countIn(doomed.companyId);
    expect(
      Object.values(after).every((n) => n === 0),
      JSON.stringify(after),
    ).toBe(true);
    expect(tables.length).toBeGreaterThanOrEqual(8);
    // The company's mail is gone (sent and unsent alike: recipients, subjects, the unsent link), so a drain has
    // nothing of it to deliver; so are its queued jobs, while another company keeps its own.
    expect(await mailTo(doomedEmails)).toBe(0);
    await drainMail(t);
    expect(readOutbox(outbox).filter((m) => m.to === undeliveredEmail)).toEqual([]);
    expect(await jobsOf(doomed.companyId)).toBe(0);
    expect(await jobsOf(waiting.companyId)).toBe(waitingJobs);
    const company = await t.owner.query('select id from companies where id = $1', [doomed.companyId]);
    expect(company.rows).toEqual([]);
    // Accounts are global and stay; only their membership of the purged company went.
    const users = await t.owner.query('select count(*)::int as n from users where id = any($1)', [
      [doomed.owner.userId, doomed.member.userId, joined.body.user.id],
    ]);
    expect(users.rows[0].n).toBe(3);
    // Other companies keep everything.
    expect((await countIn(waiting.companyId)).memberships).toBe(4);
    expect((await countIn(a.companyId)).memberships).toBe(4);
    expectProblem(await get(doomed, doomed.owner.accessToken), 401, 'UNAUTHENTICATED');
  });

  it('purges from the command line too (npm run cli -- companies purge)', async () => {
    const doomed = await registerCompany(t, 'Companies Cli Doomed');
    await t.owner.query(
      "update companies set deletion_requested_at = now() - interval '31 days', purge_after = now() - interval '1 day' where id = $1",
      [doomed.companyId],
    );
    const out: string[] = [];
    const ctx = cliContext(t.config, out);
    expect(await companiesCommand.run(['purge'], ctx)).toBe(0);
    expect(out.join('\n')).toContain(`purged company ${doomed.companyId}`);
    const rows = await t.owner.query('select count(*)::int as n from memberships where company_id = $1', [
      doomed.companyId,
    ]);
    expect(rows.rows[0].n).toBe(0);
    expect(await companiesCommand.run(['nope'], ctx)).toBe(2);
  });
});
