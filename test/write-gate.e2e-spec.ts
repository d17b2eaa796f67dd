import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_GATE, type CompanyWriteGate } from '../src/tenancy/company-write-gate.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { startTestEndpoint } from './harness/endpoint.js';
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

  /** Sends a write on its own connection and returns the request, to be destroyed (the client gives up). */
  function abandonedWrite(port: number, token: string, name: string): ClientRequest {
    const body = JSON.stringify(draft(name));
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/drafts',
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('error', () => undefined);
    req.end(body);
    return req;
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(condition()).toBe(true);
  }

  it('gives the slot back when clients give up while waiting for it, and writes go on', async () => {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    // Another write of A holds the only slot, so the abandoned ones queue in the gate.
    const hold = await gate.acquire(a.companyId);
    const abandoned = Array.from({ length: 5 }, (_, i) =>
      abandonedWrite(port, a.member.accessToken, `abandoned ${i}`),
    );
    await until(() => gate.load(a.companyId).waiting === 5);
    for (const req of abandoned) req.destroy();
    await until(() => gate.load(a.companyId).waiting === 0);
    hold();
    const ok = await t
      .http()
      .post('/v1/drafts')
      .auth(a.member.accessToken, { type: 'bearer' })
      .timeout(5_000)
      .send(draft('after abandoned writes'));
    expect(ok.status).toBe(201);
    await until(() => gate.load(a.companyId).active === 0);
    expect(gate.load(a.companyId)).toEqual({ active: 0, waiting: 0 });
  });

  it('gives the slot back when the client gives up while its write runs', async () => {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    for (let round = 0; round < 3; round++) {
      const abandoned = Array.from({ length: 5 }, (_, i) =>
        abandonedWrite(port, a.member.accessToken, `gone ${round} ${i}`),
      );
      // Give up as soon as the first one holds the slot (the others wait behind it).
      await until(() => gate.load(a.companyId).active === 1);
      for (const req of abandoned) req.destroy();
    }
    await until(() => gate.load(a.companyId).active === 0 && gate.load(a.companyId).waiting === 0);
    const ok = await t
      .http()
      .post('/v1/drafts')
      .auth(a.member.accessToken, { type: 'bearer' })
      .timeout(5_000)
      .send(draft('after abandoned running writes'));
    expect(ok.status).toBe(201);
  });

  it('holds no write slot and no connection while a connector test calls out; /health/ready shows the gate', async () => {
    const endpoint = await startTestEndpoint();
    try {
      const waiting: (() => void)[] = [];
      endpoint.handle('/slow', (_req, res) => {
        waiting.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
      });
      const created = await t
        .http()
        .post('/v1/connectors')
        .auth(a.admin.accessToken, { type: 'bearer' })
        .send({ toolId: 'gate.slow', endpointUrl: endpoint.url('/slow'), authScheme: 'none' });
      expect(created.status, created.text).toBe(201);
      // As many slow calls as the pool has connections (2), and more than the company's slots (1).
      const tests = [0, 1].map(() =>
        t
          .http()
          .post(`/v1/connectors/${created.body.id}/test`)
          .auth(a.admin.accessToken, { type: 'bearer' })
          .send({})
          .then((r) => r),
      );
      await until(() => waiting.length === 2);
      expect(gate.load(a.companyId)).toEqual({ active: 0, waiting: 0 });
      // A write and a read of the same company go through while both calls are out.
      const ok = await t
        .http()
        .post('/v1/drafts')
        .auth(a.member.accessToken, { type: 'bearer' })
        .timeout(5_000)
        .send(draft('while a connector test calls out'));
      expect(ok.status).toBe(201);
      const ready = await t.http().get('/health/ready').timeout(5_000);
      expect(ready.status).toBe(200);
      expect(ready.body.writeGate).toEqual({ companies: 0, active: 0, waiting: 0, perCompany: 1 });
      for (const answer of waiting) answer();
      for (const res of await Promise.all(tests)) expect(res.body).toMatchObject({ ok: true, status: 200 });
      const events = await t.owner.query(
        "select count(*)::int as n from audit_events where company_id = $1 and action = 'connector.tested'",
        [a.companyId],
      );
      expect(events.rows[0].n).toBe(2);
    } finally {
      await endpoint.close();
    }
  });
});
