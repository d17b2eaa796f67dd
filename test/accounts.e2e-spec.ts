import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountCommand } from '../src/cli/commands/account.command.js';
import { companiesCommand } from '../src/cli/commands/companies.command.js';
import { Membership } from '../src/members/membership.entity.js';
import { Run } from '../src/runs/run.entity.js';
import { systemContext } from '../src/tenancy/request-store.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { Unscoped } from '../src/tenancy/unscoped.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
import { drainMail, invitationLink, tempOutbox } from './harness/mail.js';
import { expectProblem } from './harness/problem.js';
import { client, publishDraft } from './harness/runs.js';
import {
  addMember,
  createCompanySession,
  login,
  registerCompany,
  TEST_PASSWORD,
  uniqueEmail,
  type Actor,
  type CompanySession,
} from './harness/session.js';

const hex = () => randomBytes(4).toString('hex');
const month = () => new Date().toISOString().slice(0, 7);

/** Plans of this suite, merged over the built-in ones (ACCOUNT_PLANS). */
const PLANS = {
  tiny: { maxCompanies: 2, maxMembersPerCompany: 5, monthlyRunBudget: 5 },
  single: { maxCompanies: 1, maxMembersPerCompany: null, monthlyRunBudget: null },
};
const ENV = { ACCOUNT_PLANS: JSON.stringify(PLANS), DATABASE_POOL_MAX: '16' };

const approval = { id: 'decide', kind: 'approval', name: 'Decide', minRole: 'manager', prompt: 'Ok?' };

describe('accounts and plans', () => {
  let t: TestApp;
  let outbox: string;
  let a: CompanySession;
  let b: CompanySession;

  /** Runs the CLI's `account` command in-process against the suite's database. */
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const code = await accountCommand.run(args, cliContext(t.config, out));
    return { code, out: out.join('\n') };
  };
  const get = (actor: { accessToken: string }, path: string) =>
    t.http().get(path).auth(actor.accessToken, { type: 'bearer' });
  const post = (actor: { accessToken: string }, path: string, body: object = {}) =>
    t.http().post(path).auth(actor.accessToken, { type: 'bearer' }).send(body);
  const accountOf = async (companyId: string): Promise<string> =>
    (await t.owner.query<{ id: string }>('select account_id as id from companies where id = $1', [companyId]))
      .rows[0].id;
  const trail = async (companyId: string, action: string) =>
    (
      await t.owner.query<{ metadata: Record<string, unknown>; actor_id: string }>(
        'select metadata, actor_id from audit_events where company_id = $1 and action = $2 order by seq',
        [companyId, action],
      )
    ).rows;
  /** Signs `actor` into `companyId` (switch-company); the session's access token. */
  const switchTo = async (actor: { accessToken: string }, companyId: string): Promise<Actor> => {
    const res = await post(actor, '/v1/auth/switch-company', { companyId });
    expect(res.status, res.text).toBe(200);
    return {
      userId: res.body.user.id,
      email: res.body.user.email,
      role: res.body.role,
      accessToken: res.body.accessToken,
      refreshToken: res.body.refreshToken,
    };
  };

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ ...ENV, MAIL_OUTBOX_DIR: outbox });
    [a, b] = await Promise.all([
      createCompanySession(t, `Acct Alpha ${hex()}`),
      createCompanySession(t, `Acct Bravo ${hex()}`),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registration creates the account (free plan), its first company and the owner, in one transaction', async () => {
    const res = await get(a.owner, '/v1/account');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      id: await accountOf(a.companyId),
      name: a.name,
      plan: 'free',
      ownerUserId: a.owner.userId,
      limits: { maxCompanies: 3, maxMembersPerCompany: 50, monthlyRunBudget: 1000 },
      companies: [{ id: a.companyId, name: a.name, slug: a.slug }],
      createdAt: expect.any(String),
    });
    const row = await t.owner.query('select owner_user_id, plan from accounts where id = $1', [res.body.id]);
    expect(row.rows).toEqual([{ owner_user_id: a.owner.userId, plan: 'free' }]);
  });

  it('answers only the account owner: other roles, API keys and another account owner get 403', async () => {
    const key = await post(a.owner, '/v1/api-keys', { name: `acct ${hex()}`, role: 'owner' });
    expect(key.status, key.text).toBe(201);
    const apiKey = { accessToken: key.body.key as string };
    for (const actor of [a.admin, a.manager, a.member, apiKey]) {
      expectProblem(await get(actor, '/v1/account'), 403, 'FORBIDDEN');
      expectProblem(await get(actor, '/v1/account/usage'), 403, 'FORBIDDEN');
      expectProblem(await post(actor, '/v1/account/companies', { name: 'Nope' }), 403, 'FORBIDDEN');
      expectProblem(
        await post(actor, '/v1/account/ownership-transfer', { userId: a.member.userId }),
        403,
        'FORBIDDEN',
      );
    }
    expect(await trail(a.companyId, 'account.company_created')).toEqual([]);
  });

  it("cross-tenant: A's account owner sees A's account only; as a member of B, B's account is refused", async () => {
    const own = await get(a.owner, '/v1/account')
      .query({ companyId: b.companyId, company_id: b.companyId })
      .set('X-Company-Id', b.companyId);
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(await accountOf(a.companyId));
    expect(own.text).not.toContain(b.companyId);
    expect(own.text).not.toContain(b.slug);
    // A's owner becomes a plain member of B: signed into B, the account there is not theirs.
    await addMember(t, b.companyId, 'member', a.owner.email);
    const inB = await switchTo(a.owner, b.companyId);
    expectProblem(await get(inB, '/v1/account'), 403, 'FORBIDDEN');
    expectProblem(await get(inB, '/v1/account/usage'), 403, 'FORBIDDEN');
    expectProblem(await post(inB, '/v1/account/companies', { name: 'Into B' }), 403, 'FORBIDDEN');
    // B's owner sees B's account, nothing of A's.
    const theirs = await get(b.owner, '/v1/account');
    expect(theirs.status).toBe(200);
    expect(theirs.body.id).toBe(await accountOf(b.companyId));
    expect(theirs.text).not.toContain(a.companyId);
  });

  it('creates companies of the account up to maxCompanies (audited there), and refuses the next with 409', async () => {
    const s = await registerCompany(t, `Acct Grow ${hex()}`);
    const made: string[] = [];
    for (const i of [1, 2]) {
      const res = await post(s.owner, '/v1/account/companies', { name: `Grow ${i} ${hex()}` });
      expect(res.status, res.text).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['id', 'name', 'slug']);
      made.push(res.body.id);
    }
    expectProblem(await post(s.owner, '/v1/account/companies', { name: 'One too many' }), 409, 'CONFLICT');
    expectProblem(await post(s.owner, '/v1/account/companies', { name: '' }), 400, 'VALIDATION_FAILED');
    const account = await get(s.owner, '/v1/account');
    expect(account.body.companies.map((c: { id: string }) => c.id)).toEqual([s.companyId, ...made]);
    // The caller owns the new company and acts in it by switching.
    const inNew = await switchTo(s.owner, made[0]);
    expect(inNew.role).toBe('owner');
    const events = await trail(made[0], 'account.company_created');
    expect(events).toHaveLength(1);
    expect(events[0].actor_id).toBe(s.owner.userId);
    expect(events[0].metadata).toMatchObject({ accountId: account.body.id, companies: 2 });
    expect(await trail(made[0], 'company.created')).toHaveLength(1);
    expect(await trail(s.companyId, 'account.company_created')).toEqual([]);
  });

  it('caps companies exactly under concurrency (the account row is locked)', async () => {
    const s = await registerCompany(t, `Acct Race ${hex()}`);
    const accountId = await accountOf(s.companyId);
    expect((await cli(['plan', accountId, 'tiny'])).code).toBe(0);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(s.owner, '/v1/account/companies', { name: `Race ${i}` })),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 201)) expectProblem(r, 409, 'CONFLICT');
    const n = await t.owner.query('select count(*)::int as n from companies where account_id = $1', [
      accountId,
    ]);
    expect(n.rows[0].n).toBe(2);
  });

  it('sets the plan by the CLI only, audited in every company of the account', async () => {
    const s = await registerCompany(t, `Acct Plan ${hex()}`);
    const second = await post(s.owner, '/v1/account/companies', { name: `Plan Two ${hex()}` });
    expect(second.status).toBe(201);
    const accountId = await accountOf(s.companyId);
    const res = await cli(['plan', accountId, 'tiny']);
    expect(res, res.out).toMatchObject({ code: 0 });
    expect(res.out).toContain('free → tiny');
    const account = await get(s.owner, '/v1/account');
    expect(account.body.plan).toBe('tiny');
    expect(account.body.limits).toEqual(PLANS.tiny);
    for (const companyId of [s.companyId, second.body.id as string]) {
      const events = await trail(companyId, 'account.plan_changed');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_id: 'cli', metadata: { from: 'free', to: 'tiny' } });
    }
    expect((await cli(['plan', accountId, 'platinum'])).code).toBe(2);
    expect((await cli(['plan', 'not-a-uuid', 'tiny'])).code).toBe(2);
    expect((await cli(['plan', accountId])).code).toBe(2);
    expect((await cli(['plan', '018f0000-0000-7000-8000-000000000000', 'tiny'])).code).toBe(1);
    // No route sets a plan.
    const patched = await t
      .http()
      .patch(`/v1/companies/${s.companyId}`)
      .auth(s.owner.accessToken, { type: 'bearer' })
      .send({ plan: 'unlimited' });
    expect(patched.status).toBe(400);
  });

  it('shares the account budget across companies exactly: budget 5, 20 concurrent starts in two companies → 5', async () => {
    const s = await registerCompany(t, `Acct Budget ${hex()}`);
    const accountId = await accountOf(s.companyId);
    expect((await cli(['plan', accountId, 'tiny'])).code).toBe(0);
    const second = await post(s.owner, '/v1/account/companies', { name: `Budget Two ${hex()}` });
    expect(second.status, second.text).toBe(201);
    const owners = [s.owner, await switchTo(s.owner, second.body.id)];
    const versions = await Promise.all(owners.map((o) => publishDraft(t, o, { steps: [approval] })));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client(t, owners[i % 2]).post('/v1/runs', { draftVersionId: versions[i % 2] }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((x) => x === 202)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(15);
    for (const r of answers.filter((x) => x.status === 429)) {
      expectProblem(r, 429, 'BUDGET_EXCEEDED');
      expect(r.body.detail).toContain("account's monthly run budget (5");
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    const usage = await t.owner.query('select month, count from account_run_usage where account_id = $1', [
      accountId,
    ]);
    expect(usage.rows).toEqual([{ month: month(), count: 5 }]);
    const runs = await t.owner.query(
      'select count(*)::int as n from runs r join companies c on c.id = r.company_id where c.account_id = $1',
      [accountId],
    );
    expect(runs.rows[0].n).toBe(5);
    // The usage report: per company and in total, against the plan.
    const report = await get(s.owner, '/v1/account/usage');
    expect(report.status, report.text).toBe(200);
    expect(report.body).toMatchObject({ accountId, plan: 'tiny', month: month(), limits: PLANS.tiny });
    expect(report.body.totals).toEqual({ companies: 2, runsThisMonth: 5, maxMembers: 1 });
    const perCompany = report.body.companies as { id: string; runsThisMonth: number; members: number }[];
    expect(perCompany.map((c) => c.id)).toEqual([s.companyId, second.body.id]);
    expect(perCompany.reduce((n, c) => n + c.runsThisMonth, 0)).toBe(5);
    expect(perCompany.every((c) => c.members === 1)).toBe(true);
  });

  it('lets the smaller budget bind: a company budget of 2 under an account budget of 5', async () => {
    const s = await registerCompany(t, `Acct Smaller ${hex()}`);
    expect((await cli(['plan', await accountOf(s.companyId), 'tiny'])).code).toBe(0);
    const set = await t
      .http()
      .patch(`/v1/companies/${s.companyId}`)
      .auth(s.owner.accessToken, { type: 'bearer' })
      .send({ monthlyRunBudget: 2 });
    expect(set.status, set.text).toBe(200);
    const version = await publishDraft(t, s.owner, { steps: [approval] });
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await client(t, s.owner).post('/v1/runs', { draftVersionId: version }));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 429]);
    expect(answers[2].body.detail).toContain("company's monthly run budget (2)");
  });

  it('caps members per company exactly on invitation accept (maxMembersPerCompany)', async () => {
    const s = await createCompanySession(t, `Acct Members ${hex()}`);
    expect((await cli(['plan', await accountOf(s.companyId), 'tiny'])).code).toBe(0);
    // Four members; the plan allows five: of three concurrent accepts, exactly one gets in.
    const emails = [uniqueEmail('cap'), uniqueEmail('cap'), uniqueEmail('cap')];
    for (const email of emails) {
      const res = await post(s.admin, `/v1/companies/${s.companyId}/invitations`, { email, role: 'member' });
      expect(res.status, res.text).toBe(201);
    }
    await drainMail(t);
    const answers = await Promise.all(
      emails.map((email) =>
        t
          .http()
          .post('/v1/invitations/accept')
          .send({ token: invitationLink(outbox, email).token, name: 'Capped', password: TEST_PASSWORD }),
      ),
    );
    expect(answers.filter((r) => r.status === 200 || r.status === 201)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status >= 300)) {
      expectProblem(r, 409, 'CONFLICT');
      expect(r.body.detail).toContain('allows 5 members per company');
    }
    const n = await t.owner.query('select count(*)::int as n from memberships where company_id = $1', [
      s.companyId,
    ]);
    expect(n.rows[0].n).toBe(5);
    // At the cap, inviting is refused too (the invitation could never be accepted), and nothing is stored.
    const email = uniqueEmail('cap');
    const refused = await post(s.admin, `/v1/companies/${s.companyId}/invitations`, {
      email,
      role: 'member',
    });
    expectProblem(refused, 409, 'CONFLICT');
    expect(refused.body.detail).toContain('allows 5 members per company');
    const stored = await t.owner.query('select 1 from invitations where company_id = $1 and email = $2', [
      s.companyId,
      email,
    ]);
    expect(stored.rowCount).toBe(0);
  });

  it('transfers account ownership to a member of one of its companies, audited in each company', async () => {
    const s = await createCompanySession(t, `Acct Transfer ${hex()}`);
    const second = await post(s.owner, '/v1/account/companies', { name: `Transfer Two ${hex()}` });
    expect(second.status).toBe(201);
    const accountId = await accountOf(s.companyId);
    // Someone of another company, an unknown id, oneself: the same kind of 400.
    for (const userId of [b.member.userId, '018f0000-0000-7000-8000-000000000000', s.owner.userId]) {
      expectProblem(
        await post(s.owner, '/v1/account/ownership-transfer', { userId }),
        400,
        'VALIDATION_FAILED',
      );
    }
    const res = await post(s.owner, '/v1/account/ownership-transfer', { userId: s.member.userId });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ id: accountId, ownerUserId: s.member.userId });
    for (const companyId of [s.companyId, second.body.id as string]) {
      const events = await trail(companyId, 'account.ownership_transferred');
      expect(events).toEqual([
        { actor_id: s.owner.userId, metadata: { from: s.owner.userId, to: s.member.userId } },
      ]);
    }
    expectProblem(await get(s.owner, '/v1/account'), 403, 'FORBIDDEN');

    // The new account owner (a plain member of the first company only) sees the directory and the counts of
    // the second company, never its data, and cannot act in it.
    const secret = `Secret process ${hex()}`;
    const inSecond = await switchTo(s.owner, second.body.id);
    const version = await publishDraft(t, inSecond, { name: secret, steps: [approval] });
    const run = await client(t, inSecond).post('/v1/runs', { draftVersionId: version });
    expect(run.status, run.text).toBe(202);
    const owner = s.member;
    const account = await get(owner, '/v1/account');
    expect(account.status).toBe(200);
    expect(account.body.companies.map((c: { id: string }) => c.id)).toEqual([s.companyId, second.body.id]);
    const usage = await get(owner, '/v1/account/usage');
    expect(usage.status).toBe(200);
    expect(usage.body.companies[1]).toMatchObject({ id: second.body.id, runsThisMonth: 1, members: 1 });
    for (const r of [account, usage]) {
      expect(r.text).not.toContain(run.body.id);
      expect(r.text).not.toContain(version);
      expect(r.text).not.toContain(secret);
    }
    expectProblem(
      await post(owner, '/v1/auth/switch-company', { companyId: second.body.id }),
      404,
      'NOT_FOUND',
    );
    const runs = await get(owner, '/v1/runs');
    expect(runs.status).toBe(200);
    expect(runs.text).not.toContain(run.body.id);
    expectProblem(await get(owner, `/v1/runs/${run.body.id}`), 404, 'NOT_FOUND');
    const drafts = await get(owner, '/v1/drafts');
    expect(drafts.text).not.toContain(secret);
    // The new owner can create a company (and owns it); the old owner no longer can.
    expectProblem(await post(s.owner, '/v1/account/companies', { name: 'Old owner' }), 403, 'FORBIDDEN');
    const fresh = await login(t, owner.email, s.slug);
    const made = await post(fresh, '/v1/account/companies', { name: `New owner co ${hex()}` });
    expect(made.status, made.text).toBe(201);
  });

  it('the account path reads the directory only: a tenant entity inside it throws, even in a company of it', async () => {
    const tenancy = t.app.get(TenancyService);
    const accountId = await accountOf(a.companyId);
    expect(await tenancy.accountCompanies(accountId)).toEqual([
      { id: a.companyId, name: a.name, slug: a.slug },
    ]);
    await expect(tenancy.unscoped(Unscoped.Account, (em) => em.find(Run, {}))).rejects.toThrow(
      /filter|tenant/i,
    );
    await expect(
      tenancy.unscoped(Unscoped.Account, (em) =>
        em.transactional((tx) =>
          tenancy.inCompany(tx, systemContext(a.companyId), () => tx.find(Membership, {})),
        ),
      ),
    ).rejects.toThrow(/filter|tenant/i);
    // Only account work may move a transaction between companies.
    await expect(
      tenancy.run(systemContext(a.companyId), (em) =>
        em.transactional((tx) => tenancy.inCompany(tx, systemContext(b.companyId), async () => 1)),
      ),
    ).rejects.toThrow('inCompany runs inside unscoped account work only');
    await expect(
      tenancy.unscoped(Unscoped.Directory, (em) =>
        em.transactional((tx) => tenancy.inCompany(tx, systemContext(b.companyId), async () => 1)),
      ),
    ).rejects.toThrow('inCompany runs inside unscoped account work only');
  });

  it('keeps the account when its last company is purged', async () => {
    const s = await registerCompany(t, `Acct Purge ${hex()}`);
    const accountId = await accountOf(s.companyId);
    await t.owner.query(
      "update companies set deletion_requested_at = now() - interval '31 days', purge_after = now() - interval '1 day' where id = $1",
      [s.companyId],
    );
    expect(await companiesCommand.run(['purge'], cliContext(t.config))).toBe(0);
    const rows = await t.owner.query(
      'select a.id, (select count(*)::int from companies c where c.account_id = a.id) as companies from accounts a where a.id = $1',
      [accountId],
    );
    expect(rows.rows).toEqual([{ id: accountId, companies: 0 }]);
  });
});
