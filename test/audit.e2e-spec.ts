import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditService } from '../src/audit/audit.service.js';
import type { AuditRecord } from '../src/audit/audit-record.js';
import { GENESIS_HASH } from '../src/audit/canonical-json.js';
import { verifyChain } from '../src/audit/chain-verifier.js';
import type { CliContext } from '../src/cli/command.js';
import { auditCommand, systemContext } from '../src/cli/commands/audit.command.js';
import { loadConfig } from '../src/config/config.js';
import type { TenantContext } from '../src/tenancy/request-store.js';
import { SESSION } from '../src/tenancy/tenant.entity.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { seedAuditChain } from './harness/audit-chain.js';
import { startFakeS3 } from './harness/fake-s3.js';
import { expectProblem } from './harness/problem.js';
import {
  createCompanySession,
  grantPlatformAdmin,
  login,
  registerCompany,
  type CompanySession,
} from './harness/session.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Reads an NDJSON response body as text (supertest does not buffer unknown types by itself). */
const ndjsonParser = (res: unknown, done: (err: Error | null, body: unknown) => void) => {
  const stream = res as NodeJS.ReadableStream;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => done(null, text));
};
const linesOf = (res: Response): AuditRecord[] =>
  (res.body as string)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord);

/** Runs a CLI command in-process, with the test database as the owner URL, capturing its output. */
async function runCli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    config: loadConfig({ ...process.env, ...env }, () => undefined),
    ownerUrl: () => Promise.resolve(inject('ownerUrl')),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  const code = await auditCommand.run(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('audit trail', () => {
  let t: TestApp;
  let a: CompanySession;
  let b: CompanySession;
  let tenancy: TenancyService;
  let audit: AuditService;

  const get = (path: string, token: string) => t.http().get(path).auth(token, { type: 'bearer' });
  const exportOf = (path: string, token: string) => get(path, token).buffer(true).parse(ndjsonParser);
  const rowsOf = async (companyId: string) =>
    (
      await t.owner.query<{ seq: string; prev_hash: string; hash: string }>(
        'select seq, prev_hash, hash from audit_events where company_id = $1 order by seq',
        [companyId],
      )
    ).rows.map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash }));
  const append = (ctx: TenantContext, metadata: Record<string, unknown> = {}) =>
    tenancy.run(ctx, (em) =>
      em.transactional((tx) =>
        audit.record(
          { action: 'company.updated', target: { type: 'Company', id: ctx.companyId }, metadata },
          tx,
        ),
      ),
    );

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Audit A');
    b = await createCompanySession(t, 'Audit B');
    tenancy = t.app.get(TenancyService);
    audit = t.app.get(AuditService);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets admins and owners read, verify and export; managers and members get 403', async () => {
    for (const path of ['/v1/audit-events', '/v1/audit-events/verify', '/v1/audit-events/export']) {
      for (const role of ['member', 'manager'] as const) {
        expectProblem(await get(path, a.as(role).accessToken), 403, 'FORBIDDEN');
      }
      for (const role of ['admin', 'owner'] as const) {
        const res = path.endsWith('export')
          ? await exportOf(path, a.as(role).accessToken)
          : await get(path, a.as(role).accessToken);
        expect(res.status, `${role} ${path}`).toBe(200);
      }
      expectProblem(await t.http().get(path), 401, 'UNAUTHENTICATED');
    }
  });

  it('lists events newest first in the exported record shape, with cursor pagination', async () => {
    const res = await get('/v1/audit-events?limit=100', a.admin.accessToken);
    expect(res.status).toBe(200);
    const data = res.body.data as AuditRecord[];
    const ids = data.map((e) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const created = data.find((e) => e.action === 'company.created');
    expect(created).toMatchObject({
      companyId: a.companyId,
      seq: 1,
      actionVersion: 1,
      actor: { type: 'user', id: a.owner.userId },
      target: { type: 'Company', id: a.companyId },
      metadata: { name: 'Audit A' },
      prevHash: GENESIS_HASH,
    });
    expect(Object.keys(created!).sort()).toEqual(
      [
        'action',
        'actionVersion',
        'actor',
        'companyId',
        'context',
        'hash',
        'id',
        'metadata',
        'occurredAt',
        'prevHash',
        'seq',
        'target',
      ].sort(),
    );
    expect(Object.keys(created!.context).sort()).toEqual(['ip', 'requestId', 'userAgent']);

    const first = await get('/v1/audit-events?limit=2', a.admin.accessToken);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await get(
      `/v1/audit-events?limit=2&cursor=${first.body.nextCursor as string}`,
      a.admin.accessToken,
    );
    expect(second.status).toBe(200);
    expect((second.body.data as AuditRecord[])[0].id < (first.body.data as AuditRecord[])[1].id).toBe(true);
    expectProblem(await get('/v1/audit-events?cursor=bogus', a.admin.accessToken), 400, 'VALIDATION_FAILED');
  });

  it('filters by action, actor, target and time range; from after to is a 400', async () => {
    const q = async (query: string) => {
      const res = await get(`/v1/audit-events?limit=100&${query}`, a.admin.accessToken);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data as AuditRecord[];
    };
    const logins = await q('action=auth.login');
    expect(logins.length).toBeGreaterThanOrEqual(3);
    expect(logins.every((e) => e.action === 'auth.login')).toBe(true);

    const byManager = await q(`actorId=${a.manager.userId}`);
    expect(byManager.length).toBeGreaterThanOrEqual(1);
    expect(byManager.every((e) => e.actor.id === a.manager.userId)).toBe(true);
    expect((await q('actorType=user')).every((e) => e.actor.type === 'user')).toBe(true);
    expect(await q('actorType=system')).toEqual([]);

    const onCompany = await q(`targetType=Company&targetId=${a.companyId}`);
    expect(onCompany.map((e) => e.action)).toContain('company.created');
    expect(onCompany.every((e) => e.target?.type === 'Company' && e.target.id === a.companyId)).toBe(true);

    const all = await q('');
    const oldest = all[all.length - 1];
    const window = await q(`from=${oldest.occurredAt}&to=${oldest.occurredAt}`);
    expect(window.map((e) => e.id)).toContain(oldest.id);
    expect(window.every((e) => e.occurredAt === oldest.occurredAt)).toBe(true);
    expect(await q('from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).toEqual([]);

    for (const bad of [
      'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=yesterday',
      'actorType=robot',
      'action=DROP%20TABLE',
      'limit=1000',
    ]) {
      expectProblem(await get(`/v1/audit-events?${bad}`, a.admin.accessToken), 400, 'VALIDATION_FAILED');
    }
    expectProblem(
      await get(
        '/v1/audit-events/export?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
        a.admin.accessToken,
      ),
      400,
      'VALIDATION_FAILED',
    );
  });

  it("never shows another company's events: list, filters, export and verify see only the caller's", async () => {
    const ownCount = async (companyId: string) =>
      Number(
        (
          await t.owner.query<{ n: string }>('select count(*) as n from audit_events where company_id = $1', [
            companyId,
          ])
        ).rows[0].n,
      );
    const aIds = new Set((await rowsOf(a.companyId)).map((r) => r.hash));

    const list = await get('/v1/audit-events?limit=100', b.admin.accessToken);
    expect((list.body.data as AuditRecord[]).every((e) => e.companyId === b.companyId)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(a.companyId);
    for (const query of [
      `targetId=${a.companyId}`,
      `targetType=Company&targetId=${a.companyId}`,
      `actorId=${a.owner.userId}`,
    ]) {
      const res = await get(`/v1/audit-events?${query}`, b.admin.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    }
    // Headers and query parameters naming company A change nothing.
    const sneaky = await get(
      `/v1/audit-events?company_id=${a.companyId}&companyId=${a.companyId}`,
      b.admin.accessToken,
    ).set('X-Company-Id', a.companyId);
    expect((sneaky.body.data as AuditRecord[]).every((e) => e.companyId === b.companyId)).toBe(true);

    const exported = await exportOf('/v1/audit-events/export', b.admin.accessToken);
    const lines = linesOf(exported);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((e) => e.companyId === b.companyId && !aIds.has(e.hash))).toBe(true);

    const before = await ownCount(b.companyId);
    const verified = await get('/v1/audit-events/verify', b.admin.accessToken);
    expect(verified.body).toMatchObject({ valid: true, checked: before, headSeq: before });
  });

  it('keeps one company gap-free and fork-free under 50 concurrent appends, while another company writes too', async () => {
    const c = await registerCompany(t, 'Audit Concurrency');
    const d = await registerCompany(t, 'Audit Concurrency Neighbour');
    const [cCtx, dCtx] = [systemContext(c.companyId), systemContext(d.companyId)];
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => append(cCtx, { i })),
      ...Array.from({ length: 20 }, (_, i) => append(dCtx, { i })),
      // Appends through HTTP as well: every export records an `audit.exported` event.
      ...Array.from({ length: 10 }, () => exportOf('/v1/audit-events/export', c.owner.accessToken)),
    ]);
    for (const { companyId, owner, expected } of [
      { companyId: c.companyId, owner: c.owner, expected: 2 + 50 + 10 },
      { companyId: d.companyId, owner: d.owner, expected: 2 + 20 },
    ]) {
      const rows = await rowsOf(companyId);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.prevHash)).size).toBe(expected);
      rows.forEach((r, i) => expect(r.prevHash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash));
      // Concurrent verifications of one company share one walk; each caller gets the full answer.
      const verified = await Promise.all(
        Array.from({ length: 4 }, () => get('/v1/audit-events/verify', owner.accessToken)),
      );
      for (const res of verified) {
        expect(res.body).toEqual({
          valid: true,
          checked: expected,
          headSeq: expected,
          headHash: rows[expected - 1].hash,
        });
      }
    }
  });

  it('hashes metadata exactly as stored, even when jsonb would change or refuse it', async () => {
    const c = await registerCompany(t, 'Audit Odd Metadata');
    await append(systemContext(c.companyId), {
      when: new Date('2026-01-02T03:04:05.678Z'),
      gone: undefined,
      zero: -0,
      big: 1.5 * 2 ** 60,
      tiny: 1e-7,
      fraction: 0.1 + 0.2,
      loneSurrogate: 'x\ud800y',
      nul: 'a\u0000b',
      ['key\u0000']: [1, undefined, { b: 2, a: 1 }],
    });
    const listed = await get('/v1/audit-events?action=company.updated', c.owner.accessToken);
    expect((listed.body.data as AuditRecord[])[0].metadata).toMatchObject({
      when: '2026-01-02T03:04:05.678Z',
      zero: 0,
      loneSurrogate: 'x\ufffdy',
      nul: 'a\ufffdb',
    });
    expect((await get('/v1/audit-events/verify', c.owner.accessToken)).body).toMatchObject({
      valid: true,
      checked: 3,
    });
  });

  it('refuses to append outside a transaction', async () => {
    await expect(
      tenancy.run(systemContext(a.companyId), () => audit.record({ action: 'company.updated' })),
    ).rejects.toThrow(/inside the transaction/);
  });

  it('detects an event edited by the database owner, at its seq; and events removed from the end', async () => {
    const c = await registerCompany(t, 'Audit Tamper');
    for (let i = 0; i < 5; i++) await append(systemContext(c.companyId), { i });
    expect((await get('/v1/audit-events/verify', c.owner.accessToken)).body).toMatchObject({
      valid: true,
      checked: 7,
    });

    // The owner bypasses the append-only trigger (replica mode) and quietly changes one event.
    const client = await t.owner.connect();
    try {
      await client.query('begin');
      await client.query('set local session_replication_role = replica');
      await client.query(
        `update audit_events set metadata = metadata || '{"i": 99}'::jsonb where company_id = $1 and seq = 4`,
        [c.companyId],
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    const res = await get('/v1/audit-events/verify', c.owner.accessToken);
    expect(res.body).toMatchObject({ valid: false, checked: 7, headSeq: 7, firstBrokenSeq: 4 });
    expect(res.body.reason).toMatch(/seq 4: hash does not match/);

    // Another company: the last two events deleted (and the trigger bypassed) leave the head pointing past the end.
    const e = await registerCompany(t, 'Audit Truncate');
    for (let i = 0; i < 3; i++) await append(systemContext(e.companyId), { i });
    const other = await t.owner.connect();
    try {
      await other.query('begin');
      await other.query('set local session_replication_role = replica');
      await other.query('delete from audit_events where company_id = $1 and seq >= 4', [e.companyId]);
      await other.query('commit');
    } finally {
      other.release();
    }
    expect((await get('/v1/audit-events/verify', e.owner.accessToken)).body).toMatchObject({
      valid: false,
      checked: 3,
      headSeq: 5,
      firstBrokenSeq: 4,
    });
  });

  it('is append-only: the app role may neither UPDATE nor DELETE, and the trigger refuses even the owner', async () => {
    const client = await t.appRole.connect();
    try {
      for (const statement of [
        `update audit_events set metadata = '{}'::jsonb where company_id = $1`,
        'delete from audit_events where company_id = $1',
        'truncate audit_events',
      ]) {
        await client.query('begin');
        await client.query(`select set_config('${SESSION.company}', $1, true)`, [a.companyId]);
        const visible = await client.query(
          'select count(*)::int as n from audit_events where company_id = $1',
          [a.companyId],
        );
        expect(visible.rows[0].n).toBeGreaterThan(0);
        const params = statement.includes('$1') ? [a.companyId] : [];
        await expect(client.query(statement, params), statement).rejects.toThrow(/permission denied/);
        await client.query('rollback');
      }
    } finally {
      client.release();
    }
    await expect(
      t.owner.query(`update audit_events set metadata = '{}'::jsonb where company_id = $1`, [a.companyId]),
    ).rejects.toThrow(/append-only/);
    await expect(
      t.owner.query('delete from audit_events where company_id = $1', [a.companyId]),
    ).rejects.toThrow(/append-only/);
    expect((await get('/v1/audit-events/verify', a.owner.accessToken)).body.valid).toBe(true);
  });

  it("shows a switched-in operator, and what they do under the switch-in, to the company's admins", async () => {
    const home = await registerCompany(t, 'Audit Platform Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const operator = (await login(t, home.owner.email)).accessToken;
    const switched = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator, { type: 'bearer' })
      .send({ reason: 'Ticket 9000: audit export for the customer' });
    expect(switched.status).toBe(201);
    const asOperator = switched.body.accessToken as string;

    // The operator acts as an admin: reads and exports the trail (the export is audited).
    expect((await get('/v1/audit-events', asOperator)).status).toBe(200);
    expect((await exportOf('/v1/audit-events/export', asOperator)).status).toBe(200);
    // Any other module's change made under the switch-in is attributed the same way.
    await append({
      companyId: a.companyId,
      principalId: home.owner.userId,
      principalType: 'platform_admin',
      role: 'admin',
      userId: home.owner.userId,
      operatorId: home.owner.userId,
    });

    const res = await get(`/v1/audit-events?actorType=platform_admin&limit=100`, a.admin.accessToken);
    const events = res.body.data as AuditRecord[];
    expect(events.map((e) => e.action).sort()).toEqual([
      'audit.exported',
      'company.updated',
      'platform.switched_in',
    ]);
    for (const e of events) expect(e.actor).toEqual({ type: 'platform_admin', id: home.owner.userId });
    expect(events.find((e) => e.action === 'platform.switched_in')?.metadata).toMatchObject({
      reason: 'Ticket 9000: audit export for the customer',
    });
    const byOperator = await get(`/v1/audit-events?actorId=${home.owner.userId}`, a.owner.accessToken);
    expect((byOperator.body.data as AuditRecord[]).length).toBe(3);
    // Nothing of it is visible in the operator's home company or in B.
    for (const token of [home.owner.accessToken, b.admin.accessToken]) {
      const other = await get(`/v1/audit-events?actorType=platform_admin`, token);
      expect(other.body.data).toEqual([]);
    }
  });

  describe('export', () => {
    let s: Awaited<ReturnType<typeof registerCompany>>;
    let base: number;
    const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

    beforeAll(async () => {
      s = await registerCompany(t, 'Audit Export');
      base = 2; // company.created, member.joined
      // 2,500 events (more than one batch of 2,000), one per second from T0.
      await seedAuditChain(t.owner, s.companyId, 2_500, { startAt: new Date(T0), stepMs: 1_000 });
    });

    it('streams the whole chain as NDJSON in seq order, in batches, and audits the export', async () => {
      const res = await exportOf('/v1/audit-events/export', s.owner.accessToken);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="audit-${s.companyId}-1-${base + 2_500}.ndjson"`,
      );
      const lines = linesOf(res);
      expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: base + 2_500 }, (_, i) => i + 1));
      expect(verifyChain(lines, { fromGenesis: true })).toMatchObject({ valid: true, checked: base + 2_500 });
      // Record for record what the list shows (the list reads entities, the export plain rows).
      const bySeq = new Map(lines.map((l) => [l.seq, l]));
      const listed = [
        ...((await get('/v1/audit-events?limit=100', s.owner.accessToken)).body.data as AuditRecord[]),
        ...((await get('/v1/audit-events?action=company.created', s.owner.accessToken)).body
          .data as AuditRecord[]),
        ...((await get('/v1/audit-events?action=member.joined', s.owner.accessToken)).body
          .data as AuditRecord[]),
      ].filter((item) => item.seq <= base + 2_500);
      expect(listed.length).toBeGreaterThanOrEqual(90);
      for (const item of listed) expect(bySeq.get(item.seq)).toEqual(item);
      expect(bySeq.get(1)).toMatchObject({ action: 'company.created', actor: { type: 'user' } });
      // The export itself was recorded after the exported piece.
      const exported = await get('/v1/audit-events?action=audit.exported', s.owner.accessToken);
      expect((exported.body.data as AuditRecord[])[0]).toMatchObject({
        seq: base + 2_501,
        actor: { type: 'user', id: s.owner.userId },
        metadata: { format: 'ndjson', from: null, to: null, firstSeq: 1, lastSeq: base + 2_500 },
      });
    });

    it('stops streaming when the client goes away, and keeps serving', async () => {
      const server = t.app.getHttpServer();
      if (!server.listening) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;
      const received = await new Promise<number>((done, fail) => {
        const req = httpGet(
          {
            host: '127.0.0.1',
            port,
            path: '/v1/audit-events/export',
            headers: { authorization: `Bearer ${s.owner.accessToken}` },
          },
          (res) => {
            res.once('data', (chunk: Buffer) => {
              req.destroy();
              done(chunk.length);
            });
          },
        );
        req.on('error', (e) => (req.destroyed ? undefined : fail(e)));
      });
      expect(received).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      const after = await get('/v1/audit-events/verify', s.owner.accessToken);
      expect(after.body).toMatchObject({ valid: true });
    });

    it('exports the contiguous piece between from and to, and lists the same window', async () => {
      const from = new Date(T0 + 10_000).toISOString();
      const to = new Date(T0 + 19_000).toISOString();
      const res = await exportOf(`/v1/audit-events/export?from=${from}&to=${to}`, s.owner.accessToken);
      const lines = linesOf(res);
      expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 10 }, (_, i) => base + 10 + i));
      const all = await rowsOf(s.companyId);
      expect(lines[0].prevHash).toBe(all[base + 10 - 2].hash);
      expect(verifyChain(lines)).toMatchObject({
        valid: true,
        firstSeq: base + 10,
        anchorHash: lines[0].prevHash,
      });
      const listed = await get(`/v1/audit-events?from=${from}&to=${to}&limit=100`, s.owner.accessToken);
      expect((listed.body.data as AuditRecord[]).map((e) => e.seq)).toEqual(
        lines.map((l) => l.seq).reverse(),
      );
      const empty = await exportOf(
        '/v1/audit-events/export?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z',
        s.owner.accessToken,
      );
      expect(empty.status).toBe(200);
      expect(empty.body).toBe('');
    });

    it('verifies an export offline with the CLI: valid, then invalid at the seq of a modified line', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tenantry-audit-'));
      const file = join(dir, 'export.ndjson');
      const res = await exportOf('/v1/audit-events/export', s.owner.accessToken);
      writeFileSync(file, res.body as string);
      const lines = (res.body as string).split('\n');
      const record = JSON.parse(lines[99]) as AuditRecord;
      record.metadata = { ...record.metadata, n: -1 };
      lines[99] = JSON.stringify(record);
      const tampered = join(dir, 'tampered.ndjson');
      writeFileSync(tampered, lines.join('\n'));

      // The real command line, as a customer runs it (both at once: each start compiles the CLI).
      const cli = (path: string) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
          const child = spawn(
            process.execPath,
            ['--import', '@swc-node/register/esm-register', 'src/cli/main.ts', 'audit', 'verify', path],
            { cwd: ROOT, env: process.env },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('close', (status) => done({ status, stdout, stderr }));
        });
      const [ok, bad] = await Promise.all([cli(file), cli(tampered)]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/VALID: \d+ event\(s\) of company/);
      expect(ok.stdout).toContain('(genesis)');
      expect(bad.status, bad.stderr).toBe(1);
      expect(bad.stdout).toContain('INVALID');
      expect(bad.stdout).toContain(`first broken seq: ${record.seq} (line 100)`);
    }, 90_000);

    it('the export job writes audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json to a directory, idempotently', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tenantry-audit-job-'));
      const env = { AUDIT_EXPORT_URL: `file://${dir}` };
      const window = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + 2_500_000).toISOString()];
      const first = await runCli(['export', '--company', s.companyId, ...window], env);
      expect(first.code, first.err).toBe(0);
      expect(first.out).toContain(`${s.companyId}: 2500 event(s) (seq ${base + 1}–${base + 2_500})`);
      const dayDir = join(dir, 'audit', s.companyId, '2026', '01', '01');
      const files = readdirSync(dayDir);
      expect(files).toHaveLength(2_500);
      const sample = JSON.parse(readFileSync(join(dayDir, files[0]), 'utf8')) as AuditRecord;
      expect(files[0]).toBe(`${sample.id}.json`);
      expect(sample.companyId).toBe(s.companyId);

      const again = await runCli(['export', '--company', s.companyId, ...window], env);
      expect(again.code).toBe(0);
      expect(readdirSync(dayDir)).toHaveLength(2_500);

      const verified = await runCli(['verify', dir]);
      expect(verified.code, verified.out).toBe(0);
      expect(verified.out).toContain(
        `VALID: 2500 event(s) of company ${s.companyId}, seq ${base + 1}–${base + 2_500}`,
      );

      // A modified file is caught offline too.
      writeFileSync(join(dayDir, files[5]), JSON.stringify({ ...sample, action: 'member.removed' }));
      const broken = await runCli(['verify', dir]);
      expect(broken.code).toBe(1);
      expect(broken.out).toContain('INVALID');

      // Every company (the registry is listed, each exported in its own tenant context).
      const everyone = await runCli(['export', '--from', '2100-01-01T00:00:00Z'], env);
      expect(everyone.code, everyone.err).toBe(0);
      expect(everyone.out).toMatch(/Exported 0 event\(s\) of \d+ company\(ies\)/);

      expect((await runCli(['export', '--company', 'nope'], env)).code).toBe(2);
      expect((await runCli(['export', '--from', '2026-02-01', '--to', '2026-01-01'], env)).code).toBe(2);
      expect((await runCli(['export', '--bogus'], env)).code).toBe(2);
      expect((await runCli(['export', '--company', '01900000-0000-7000-8000-000000000000'], env)).code).toBe(
        1,
      );
    });

    it('the export job writes to an S3-compatible bucket with SigV4-signed PUTs, retrying transient errors', async () => {
      const credentials = {
        accessKeyId: 'AKIDTENANTRY',
        secretAccessKey: 'test/secret+key',
        region: 'eu-central-1',
      };
      const s3 = await startFakeS3(credentials);
      try {
        const url = new URL(s3.url);
        const env = {
          AUDIT_EXPORT_URL: `s3://${credentials.accessKeyId}:${encodeURIComponent(credentials.secretAccessKey)}@${url.host}/tenantry-audit/prod?region=${credentials.region}&ssl=false`,
        };
        const window = [
          '--from',
          new Date(T0 + 2_000_000).toISOString(),
          '--to',
          new Date(T0 + 2_500_000).toISOString(),
        ];
        s3.failNext(2);
        const res = await runCli(['export', '--company', s.companyId, ...window], env);
        expect(res.code, res.err).toBe(0);
        const expected = 2_500 - 2_000 + 1;
        expect(s3.objects.size).toBe(expected);
        expect(s3.requests.filter((r) => r.problem !== null && r.problem !== 'injected 503')).toEqual([]);
        for (const key of s3.objects.keys()) {
          expect(key).toMatch(
            new RegExp(`^/tenantry-audit/prod/audit/${s.companyId}/2026/01/01/[0-9a-f-]{36}\\.json$`),
          );
        }
        const records = [...s3.objects.values()]
          .map((v) => JSON.parse(v) as AuditRecord)
          .sort((x, y) => x.seq - y.seq);
        expect(verifyChain(records)).toMatchObject({ valid: true, checked: expected });

        // A wrong secret is refused by the bucket, and the job says so.
        const wrong = await runCli(['export', '--company', s.companyId, ...window], {
          AUDIT_EXPORT_URL: env.AUDIT_EXPORT_URL.replace('test%2Fsecret', 'other'),
        });
        expect(wrong.code).toBe(1);
        expect(wrong.err).toMatch(/403/);
      } finally {
        await s3.close();
      }
    });
  });
});
