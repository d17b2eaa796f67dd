import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_GATE } from '../src/authz/authorization.guard.js';
import type { CompanyWriteGate } from '../src/tenancy/company-write-gate.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/** Per-company admission of writes: slots are always given back, and other companies are not held up. */
describe('company write gate', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let gate: CompanyWriteGate;
  beforeAll(async () => {
    // Pool of 2 → one write at a time per company.
    t = await startTestApp({ DATABASE_POOL_MAX: '2' });
    gate = t.app.get<CompanyWriteGate>(WRITE_GATE);
    a = await createCompanySession(t, 'Gate A');
    b = await createCompanySession(t, 'Gate B');
  });
  afterAll(async () => {
    await t.close();
  });

  const draft = (name: string) => ({
    name,
    description: 'gate test',
    category: 'finance',
    inputSchema: { type: 'object', properties: {} },
    steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Approve?' }],
  });

  it('gives the slot back after failed and successful writes', async () => {
    expect(gate.perCompany).toBe(1);
    for (let i = 0; i < 3; i++) {
      const bad = await t
        .http()
        .post('/v1/drafts')
        .auth(a.member.accessToken, { type: 'bearer' })
        .send({ name: 1 });
      expect(bad.status).toBe(400);
    }
    const ok = await t
      .http()
      .post('/v1/drafts')
      .auth(a.member.accessToken, { type: 'bearer' })
      .send(draft('after errors'));
    expect(ok.status).toBe(201);
    expect(gate.load(a.companyId)).toEqual({ active: 0, waiting: 0 });
  });

  it('serves concurrent writes of two companies, each in turn', async () => {
    const writes = [a, b, a, b, a, b].map((s, i) =>
      t
        .http()
        .post('/v1/drafts')
        .auth(s.member.accessToken, { type: 'bearer' })
        .send(draft(`parallel ${i}`)),
    );
    const results = await Promise.all(writes);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(gate.load(a.companyId)).toEqual({ active: 0, waiting: 0 });
    expect(gate.load(b.companyId)).toEqual({ active: 0, waiting: 0 });
  });
});
