import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
