import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountPlan } from '../src/accounts/accounts.service.js';
import { AuditService } from '../src/audit/audit.service.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/**
 * Writers of one company take their locks in one order (an advisory lock for administration, then the audit
 * chain head): company administration mixed with ordinary writes and owner changes never deadlocks. Before the
 * advisory locks, a settings change (company row FOR UPDATE, then chain head) could deadlock with any insert
 * (its foreign key share-locks the company row while the chain head is held) and answer 500.
 */
describe('lock order under mixed concurrent writes of one company', () => {
  let t: TestApp;
  let a: CompanySession;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_MAX: '16' });
    a = await createCompanySession(t, 'Lock order');
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves settings changes, invitations, drafts and role changes at once without a 5xx', async () => {
    const draft = (i: number) => ({
      name: `Lock order ${i}`,
      description: 'concurrency',
      category: 'finance',
      inputSchema: { type: 'object', properties: {} },
      steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Ok?' }],
    });
    const requests = [];
    for (let i = 0; i < 12; i++) {
      requests.push(
        t
          .http()
          .patch(`/v1/companies/${a.companyId}`)
          .auth(a.admin.accessToken, { type: 'bearer' })
          .send({ maxConcurrentRuns: (i % 5) + 1 }),
        t.http().post('/v1/drafts').auth(a.member.accessToken, { type: 'bearer' }).send(draft(i)),
        t
          .http()
          .post(`/v1/companies/${a.companyId}/invitations`)
          .auth(a.admin.accessToken, { type: 'bearer' })
          .send({ email: `lock-${i}@example.test`, role: 'member' }),
        t
          .http()
          .patch(`/v1/companies/${a.companyId}/members/${a.manager.userId}`)
          .auth(a.owner.accessToken, { type: 'bearer' })
          .send({ role: i % 2 === 0 ? 'admin' : 'manager' }),
      );
    }
    const results = await Promise.all(requests);
    const failures = results.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.text}`);
    expect(failures).toEqual([]);
  }, 60_000);
});

/**
 * Account-wide writers take their locks in one order too: a run start locks its company's month row, then the
 * account's month row, then the audit chain head; a plan change or an ownership transfer locks the account row,
 * then each company's chain head in id order; a new company locks the account row, then its own new chain head.
 * Mixed at once over two companies of one account, none of them deadlocks or answers 5xx, and the account's
 * counter equals the runs started.
 */
describe('lock order of account-wide writers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_MAX: '16' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves run starts in two companies, plan changes, settings and a new company at once without a 5xx', async () => {
    const first = await createCompanySession(t, 'Lock order account');
    const second = await t
      .http()
      .post('/v1/account/companies')
      .auth(first.owner.accessToken, { type: 'bearer' })
      .send({ name: 'Lock order account two' });
    expect(second.status, second.text).toBe(201);
    const switched = await t
      .http()
      .post('/v1/auth/switch-company')
      .auth(first.owner.accessToken, { type: 'bearer' })
      .send({ companyId: second.body.id });
    expect(switched.status, switched.text).toBe(200);
    const owners = [first.owner.accessToken, switched.body.accessToken as string];
    const companies = [first.companyId, second.body.id as string];
    const versions: string[] = [];
    for (const token of owners) {
      const draft = await t
        .http()
        .post('/v1/drafts')
        .auth(token, { type: 'bearer' })
        .send({
          name: `Lock order account ${versions.length}`,
          description: 'concurrency',
          category: 'finance',
          inputSchema: { type: 'object', properties: {} },
          steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Ok?' }],
        });
      expect(draft.status, draft.text).toBe(201);
      const published = await t
        .http()
        .post(`/v1/drafts/${draft.body.id as string}/publish`)
        .auth(token, { type: 'bearer' });
      expect(published.status, published.text).toBe(200);
      versions.push(published.body.publishedVersionId as string);
    }
    const accountId = (
      await t.owner.query<{ id: string }>('select account_id as id from companies where id = $1', [
        first.companyId,
      ])
    ).rows[0].id;
    const tenancy = t.app.get(TenancyService);
    const audit = t.app.get(AuditService);

    const requests: Promise<{ status: number; text: string }>[] = [];
    for (let i = 0; i < 10; i++) {
      for (const k of [0, 1]) {
        requests.push(
          t.http().post('/v1/runs').auth(owners[k], { type: 'bearer' }).send({ draftVersionId: versions[k] }),
        );
      }
      if (i % 3 === 0) {
        const plan = i % 2 === 0 ? 'team' : 'free';
        requests.push(
          setAccountPlan(tenancy, audit, t.config.plans, accountId, plan).then(
            () => ({ status: 200, text: plan }),
            (e: unknown) => ({ status: 500, text: String(e) }),
          ),
        );
      }
      if (i % 4 === 0) {
        const k = i % 8 === 0 ? 0 : 1;
        requests.push(
          t
            .http()
            .patch(`/v1/companies/${companies[k]}`)
            .auth(owners[k], { type: 'bearer' })
            .send({ maxConcurrentRuns: (i % 3) + 1 }),
        );
      }
    }
    requests.push(
      t
        .http()
        .post('/v1/account/companies')
        .auth(first.owner.accessToken, { type: 'bearer' })
        .send({ name: 'Lock order account three' }),
    );
    const results = await Promise.all(requests);
    const failures = results.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.text}`);
    expect(failures).toEqual([]);
    const counted = await t.owner.query<{ count: number }>(
      'select count from account_run_usage where account_id = $1',
      [accountId],
    );
    expect(counted.rows).toEqual([{ count: 20 }]);
  }, 90_000);
});
