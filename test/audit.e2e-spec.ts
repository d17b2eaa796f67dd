import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditQueryService } from '../src/audit/audit-query.service.js';
import { AuditService } from '../src/audit/audit.service.js';
import type { AuditRecord } from '../src/audit/audit-record.js';
import { GENESIS_HASH } from '../src/audit/canonical-json.js';
import { verifyChain } from '../src/audit/chain-verifier.js';
import { AUDIT_EXPORT_TASK, AuditExportService } from '../src/audit/audit-export.job.js';
import type { ExportTrailer } from '../src/audit/export-trailer.js';
import { verifyExport } from '../src/audit/offline-verifier.js';
import { auditCommand, systemContext } from '../src/cli/commands/audit.command.js';
import { loadConfig } from '../src/config/config.js';
import { Scheduler } from '../src/scheduler/scheduler.service.js';
import type { TenantContext } from '../src/tenancy/request-store.js';
import { SESSION } from '../src/tenancy/tenant.entity.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
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
const parsedLines = (res: Response): unknown[] =>
  (res.body as string)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
/** The events of an NDJSON export (every line but the trailer, which must be the last one). */
const linesOf = (res: Response): AuditRecord[] => {
  const lines = parsedLines(res);
  expect(lines.at(-1), 'the export ends with its trailer').toHaveProperty('trailer');
  return lines.slice(0, -1) as AuditRecord[];
};
const trailerOf = (res: Response): ExportTrailer =>
  (parsedLines(res).at(-1) as { trailer: ExportTrailer }).trailer;

/** Runs a CLI command in-process, with the test database as the owner URL, capturing its output. */
async function runCli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await auditCommand.run(
    args,
    cliContext(
      loadConfig({ ...process.env, ...env }, () => undefined),
      out,
      err,
    ),
  );
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

    // A feature's action filters like a core one (the catalogue is read when the request is validated).
    expect(await q('action=board.created')).toEqual([]);

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
      'action=board.exploded',
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

  it("lets the company's admins read, verify and export the trail during the deletion grace window, and nothing else", async () => {
    const c = await createCompanySession(t, 'Audit Grace');
    const scheduled = await t
      .http()
      .delete(`/v1/companies/${c.companyId}`)
      .auth(c.owner.accessToken, { type: 'bearer' });
    expect(scheduled.status).toBe(202);
    for (const role of ['owner', 'admin'] as const) {
      const token = c.as(role).accessToken;
      const list = await get('/v1/audit-events?action=company.deletion_scheduled', token);
      expect(list.status, `${role}: ${JSON.stringify(list.body)}`).toBe(200);
      expect((list.body.data as AuditRecord[]).map((e) => e.actor.id)).toEqual([c.owner.userId]);
      const verified = await get('/v1/audit-events/verify', token);
      expect(verified.status).toBe(200);
      expect(verified.body.valid).toBe(true);
      const exported = await exportOf('/v1/audit-events/export', token);
      expect(exported.status).toBe(200);
      expect(linesOf(exported).some((e) => e.action === 'company.deletion_scheduled')).toBe(true);
    }
    // Reading the trail is all that opened up: other routes stay closed, and roles still apply.
    for (const role of ['manager', 'member'] as const) {
      expectProblem(await get('/v1/audit-events', c.as(role).accessToken), 403, 'FORBIDDEN');
    }
    const connectors = await get('/v1/connectors', c.admin.accessToken);
    expectProblem(connectors, 403, 'FORBIDDEN');
    expect(connectors.body.detail).toMatch(/scheduled for deletion/);
    // The exports made meanwhile are in the trail like any other.
    const exports = await get('/v1/audit-events?action=audit.exported', c.owner.accessToken);
    expect((exports.body.data as AuditRecord[]).map((e) => e.actor.id).sort()).toEqual(
      [c.owner.userId, c.admin.userId].sort(),
    );
  });

  it("shows a switched-in operator, and what they do under the switch-in, to the company's admins", async () => {
    const home = await registerCompany(t, 'Audit Platform Home');
    await grantPlatformAdmin(t, home.owner.userId);
    const operator = (await login(t, home.owner.email)).accessToken;
    const switched = await t
      .http()
      .post(`/v1/platform/companies/${a.companyId}/switch`)
      .auth(operator, { type: 'bearer' })
      // Switch-ins are read-only by default; this one makes a change below, so it asks for write.
      .send({ reason: 'Ticket 9000: audit export for the customer', mode: 'write' });
    expect(switched.status).toBe(201);
    const asOperator = switched.body.accessToken as string;

    // The operator acts as an admin: reads and exports the trail (the export is audited).
    expect((await get('/v1/audit-events', asOperator)).status).toBe(200);
    expect((await exportOf('/v1/audit-events/export', asOperator)).status).toBe(200);
    // A real change made under the switch-in, over HTTP: attributed to the operator the same way.
    const changed = await t
      .http()
      .patch(`/v1/companies/${a.companyId}`)
      .auth(asOperator, { type: 'bearer' })
      .send({ fourEyes: false });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const requestId = changed.headers['x-request-id'];

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
    expect(events.find((e) => e.action === 'company.updated')).toMatchObject({
      target: { type: 'Company', id: a.companyId },
      context: { requestId },
      metadata: { fields: ['fourEyes'], changes: { fourEyes: { from: true, to: false } } },
    });
    const byOperator = await get(`/v1/audit-events?actorId=${home.owner.userId}`, a.owner.accessToken);
    expect((byOperator.body.data as AuditRecord[]).length).toBe(3);
    // Ids in upper case are the same ids (`actorId`, `targetId`); a name such as `system` is taken as sent.
    const upper = await get(
      `/v1/audit-events?actorId=${home.owner.userId.toUpperCase()}`,
      a.owner.accessToken,
    );
    expect(upper.body.data).toEqual(byOperator.body.data);
    const byTarget = await get(`/v1/audit-events?targetId=${a.companyId}`, a.owner.accessToken);
    expect((byTarget.body.data as AuditRecord[]).length).toBeGreaterThan(0);
    const byUpperTarget = await get(
      `/v1/audit-events?targetId=${a.companyId.toUpperCase()}`,
      a.owner.accessToken,
    );
    expect(byUpperTarget.body.data).toEqual(byTarget.body.data);
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
      // The last line is the trailer: the piece, and the chain head when the export started.
      expect(trailerOf(res)).toEqual({
        format: 'tenantry.audit-export',
        version: 1,
        companyId: s.companyId,
        exportedAt: expect.any(String),
        from: null,
        to: null,
        firstSeq: 1,
        lastSeq: base + 2_500,
        count: base + 2_500,
        lastHash: lines.at(-1)!.hash,
        headSeq: base + 2_500,
        headHash: lines.at(-1)!.hash,
      });
      // The export itself was recorded after the exported piece.
      const exported = await get('/v1/audit-events?action=audit.exported', s.owner.accessToken);
      expect((exported.body.data as AuditRecord[])[0]).toMatchObject({
        seq: base + 2_501,
        actionVersion: 2,
        actor: { type: 'user', id: s.owner.userId },
        metadata: {
          format: 'ndjson',
          from: null,
          to: null,
          firstSeq: 1,
          lastSeq: base + 2_500,
          headSeq: base + 2_500,
          headHash: lines.at(-1)!.hash,
        },
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
      // The window ends before the chain head: the trailer says both.
      const head = (await get('/v1/audit-events/verify', s.owner.accessToken)).body as { headSeq: number };
      expect(trailerOf(res)).toMatchObject({
        from,
        to,
        firstSeq: base + 10,
        lastSeq: base + 19,
        count: 10,
        lastHash: lines.at(-1)!.hash,
      });
      expect(trailerOf(res).headSeq).toBeGreaterThan(base + 19);
      expect(trailerOf(res).headSeq).toBeLessThan(head.headSeq);
      const empty = await exportOf(
        '/v1/audit-events/export?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z',
        s.owner.accessToken,
      );
      expect(empty.status).toBe(200);
      expect(linesOf(empty)).toEqual([]);
      expect(trailerOf(empty)).toMatchObject({ firstSeq: null, lastSeq: null, count: 0, lastHash: null });
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

    it('catches events cut from the end of a saved export through its trailer; windows verify; old files cannot prove completeness', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tenantry-audit-trailer-'));
      const save = (name: string, lines: string[]) => {
        const file = join(dir, name);
        writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
        return file;
      };
      const res = await exportOf('/v1/audit-events/export', s.owner.accessToken);
      const lines = (res.body as string).split('\n').filter(Boolean);
      const events = lines.length - 1;
      const trailer = lines.at(-1)!;

      const whole = await runCli(['verify', save('whole.ndjson', lines)]);
      expect(whole.code, whole.out).toBe(0);
      expect(whole.out).toContain(`VALID: ${events} event(s)`);
      expect(whole.out).toContain(`complete: the export's trailer covers exactly seq 1–${events}`);

      // The last three events removed, the trailer kept: INVALID, and the reason says what happened.
      const cut = await runCli(['verify', save('cut.ndjson', [...lines.slice(0, events - 3), trailer])]);
      expect(cut.code).toBe(1);
      expect(cut.out).toContain('INVALID');
      expect(cut.out).toContain(
        `first broken seq: ${events - 2} (line ${events - 2}): seq ${events - 2}–${events} missing at the end: events were removed from the end`,
      );

      // Removed together with the trailer: the chain still verifies, but the verifier says it cannot vouch for the end.
      const bare = await runCli(['verify', save('bare.ndjson', lines.slice(0, events - 3))]);
      expect(bare.code).toBe(0);
      expect(bare.out).toContain('completeness NOT proven');

      // An export of a window (from/to) verifies, complete, although it ends before the chain head.
      const from = new Date(T0 + 100_000).toISOString();
      const to = new Date(T0 + 199_000).toISOString();
      const windowed = await exportOf(`/v1/audit-events/export?from=${from}&to=${to}`, s.owner.accessToken);
      const piece = (windowed.body as string).split('\n').filter(Boolean);
      const ok = await runCli(['verify', save('window.ndjson', piece)]);
      expect(ok.code, ok.out).toBe(0);
      expect(ok.out).toContain(
        `VALID: 100 event(s) of company ${s.companyId}, seq ${base + 100}–${base + 199}`,
      );
      expect(ok.out).toContain(`window ${from} to ${to}`);
      const windowCut = await runCli([
        'verify',
        save('window-cut.ndjson', [...piece.slice(0, 99), piece.at(-1)!]),
      ]);
      expect(windowCut.code).toBe(1);
      expect(windowCut.out).toContain(`seq ${base + 199}–${base + 199} missing at the end`);
    });

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

      // The export is recorded in the company's own chain, by the system.
      const recorded = await get(
        '/v1/audit-events?action=audit.exported&actorType=system',
        s.owner.accessToken,
      );
      expect((recorded.body.data as AuditRecord[])[0]).toMatchObject({
        actionVersion: 2,
        actor: { type: 'system', id: 'system' },
        target: { type: 'Company', id: s.companyId },
        metadata: {
          format: 'partitioned',
          from: window[1],
          to: window[3],
          firstSeq: base + 1,
          lastSeq: base + 2_500,
          target: `file://${dir}`,
          incremental: false,
        },
      });

      const again = await runCli(['export', '--company', s.companyId, ...window], env);
      expect(again.code).toBe(0);
      expect(readdirSync(dayDir)).toHaveLength(2_500);
      const twice = await get('/v1/audit-events?action=audit.exported&actorType=system', s.owner.accessToken);
      expect(twice.body.data).toHaveLength(2);

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

      // Every company (the registry is listed, each exported in its own tenant context); an empty piece is
      // neither written nor recorded.
      const everyone = await runCli(['export', '--from', '2100-01-01T00:00:00Z'], env);
      expect(everyone.code, everyone.err).toBe(0);
      expect(everyone.out).toMatch(/Exported 0 event\(s\) of \d+ company\(ies\)/);
      const after = await get('/v1/audit-events?action=audit.exported&actorType=system', s.owner.accessToken);
      expect(after.body.data).toHaveLength(2);
      expect((await runCli(['export', '--incremental', '--from', '2026-01-01'], env)).code).toBe(2);

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

    it('the scheduled job exports incrementally to a directory: only what is new, each run recorded, verifiable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tenantry-audit-scheduled-'));
      const app = await startTestApp({
        AUDIT_EXPORT_URL: `file://${dir}`,
        AUDIT_EXPORT_INTERVAL_MINUTES: '15',
      });
      try {
        // Registered with the scheduler at the configured interval (it runs where WORKER_MODE=inline).
        expect(app.app.get(Scheduler).intervalOf(AUDIT_EXPORT_TASK)).toBe(15 * 60_000);
        const c = await createCompanySession(app, 'Audit Scheduled');
        const job = app.app.get(AuditExportService);
        const headSeq = async () =>
          (await app.http().get('/v1/audit-events/verify').auth(c.owner.accessToken, { type: 'bearer' })).body
            .headSeq as number;
        const companyDir = join(dir, 'audit', c.companyId);
        const filesOf = () =>
          readdirSync(companyDir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => join(e.parentPath, e.name));
        const lastExport = async () =>
          (
            (
              await app
                .http()
                .get('/v1/audit-events?action=audit.exported&limit=1')
                .auth(c.owner.accessToken, { type: 'bearer' })
            ).body.data as AuditRecord[]
          )[0];

        // First run: the whole chain so far, then its own event after it.
        const h = await headSeq();
        expect(await job.run([c.companyId])).toEqual({ companies: 1, exported: h, failed: 0 });
        expect(filesOf()).toHaveLength(h);
        expect(await lastExport()).toMatchObject({
          seq: h + 1,
          actionVersion: 2,
          actor: { type: 'system', id: 'system' },
          target: { type: 'Company', id: c.companyId },
          metadata: {
            format: 'partitioned',
            incremental: true,
            firstSeq: 1,
            lastSeq: h,
            headSeq: h,
            target: `file://${dir}`,
          },
        });

        // Nothing new but its own record: nothing is written, nothing recorded (an idle company stays idle).
        expect(await job.run([c.companyId])).toEqual({ companies: 1, exported: 0, failed: 0 });
        expect(await headSeq()).toBe(h + 1);

        // A change: the next run writes only the new events (the previous run's record and the change); a file
        // of the first run, removed meanwhile, is not written again.
        const removed = filesOf()[0];
        const removedBody = readFileSync(removed, 'utf8');
        rmSync(removed);
        const patched = await app
          .http()
          .patch(`/v1/companies/${c.companyId}`)
          .auth(c.admin.accessToken, { type: 'bearer' })
          .send({ name: 'Audit Scheduled Renamed' });
        expect(patched.status).toBe(200);
        expect(await job.run([c.companyId])).toEqual({ companies: 1, exported: 2, failed: 0 });
        expect(filesOf()).toHaveLength(h + 1);
        expect(await lastExport()).toMatchObject({
          seq: h + 3,
          metadata: { firstSeq: h + 1, lastSeq: h + 2, headSeq: h + 2, incremental: true },
        });
        const cursor = await app.owner.query(
          'select target, exported_seq, event_seq from audit_export_cursors where company_id = $1',
          [c.companyId],
        );
        expect(cursor.rows).toEqual([
          { target: `file://${dir}`, exported_seq: String(h + 2), event_seq: String(h + 3) },
        ]);

        // Put back, the folder is the whole chain up to the last export, verifiable offline.
        writeFileSync(removed, removedBody);
        const [verified] = await verifyExport(companyDir);
        expect(verified).toMatchObject({ valid: true, checked: h + 2, firstSeq: 1, lastSeq: h + 2 });

        // The command line runs the same job once, from the same watermark; with AUDIT_EXPORT_INTERVAL_MINUTES=0
        // nothing is scheduled.
        const incremental = () =>
          runCli(['export', '--incremental', '--company', c.companyId], {
            AUDIT_EXPORT_URL: `file://${dir}`,
          });
        expect((await incremental()).out).toContain(`${c.companyId}: 0 event(s)`);
        await app
          .http()
          .patch(`/v1/companies/${c.companyId}`)
          .auth(c.admin.accessToken, { type: 'bearer' })
          .send({ name: 'Audit Scheduled Again' });
        const cli = await incremental();
        expect(cli.code, cli.err).toBe(0);
        expect(cli.out).toContain(`${c.companyId}: 2 event(s) (seq ${h + 3}–${h + 4})`);
        const off = new Scheduler(app.config);
        new AuditExportService(
          app.app.get(TenancyService),
          app.app.get(AuditQueryService),
          app.app.get(AuditService),
          off,
          loadConfig({ ...process.env, AUDIT_EXPORT_INTERVAL_MINUTES: '0' }, () => undefined),
        ).onModuleInit();
        expect(off.intervalOf(AUDIT_EXPORT_TASK)).toBeUndefined();
      } finally {
        await app.close();
      }
    });
  });
});
