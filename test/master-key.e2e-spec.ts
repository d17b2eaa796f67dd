import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterKeyCommand } from '../src/cli/commands/master-key.command.js';
import { masterKeyId } from '../src/crypto/secret-box.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { cliContext } from './harness/cli.js';
import { startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem } from './harness/problem.js';
import { createCompanySession, registerCompany, type CompanySession } from './harness/session.js';

/**
 * `npm run cli -- master-key rotate`: re-wraps company data keys under a new master key. Scoped with `--company`
 * here, because other suites share the database (and its data keys) while this one runs.
 */
describe('master key rotation', () => {
  let t: TestApp;
  let a: CompanySession;
  let endpoint: TestEndpoint;
  let connectorId: string;
  const secret = `rotate_${randomBytes(16).toString('hex')}`;
  const newKey = randomBytes(32);
  const newKeyB64 = newKey.toString('base64');
  let keyFile: string;

  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await masterKeyCommand.run(args, cliContext(t.config, out, err));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const keyRow = async (companyId: string) =>
    (
      await t.owner.query<{ master_key_id: string; wrapped_key: string; rotated_at: Date | null }>(
        'select master_key_id, wrapped_key, rotated_at from company_keys where company_id = $1',
        [companyId],
      )
    ).rows[0];

  beforeAll(async () => {
    t = await startTestApp();
    endpoint = await startTestEndpoint();
    a = await createCompanySession(t, 'Rotation Co');
    const res = await t
      .http()
      .post('/v1/connectors')
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ toolId: 'rotate.me', endpointUrl: endpoint.url('/rotate'), authScheme: 'bearer', secret });
    expect(res.status).toBe(201);
    connectorId = res.body.id as string;
    keyFile = join(mkdtempSync(join(tmpdir(), 'tenantry-key-')), 'new-master-key');
    writeFileSync(keyFile, `${newKeyB64}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await endpoint.close();
    await t.close();
  });

  it('refuses a malformed or unchanged key and unknown options', async () => {
    expect((await cli(['rotate'])).code).toBe(2);
    expect((await cli(['rotate', '--new-key', 'c2hvcnQ='])).code).toBe(2);
    expect((await cli(['rotate', '--new-key', t.config.masterKey.toString('base64')])).code).toBe(2);
    expect((await cli(['rotate', '--new-key-file', keyFile, '--company', 'nope'])).code).toBe(2);
    expect((await cli(['spin'])).code).toBe(2);
  });

  it('reports which master key wraps the data keys', async () => {
    const status = await cli(['status', '--company', a.companyId]);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`${masterKeyId(t.config.masterKey)}: 1 company (configured)`);
  });

  it('walks every company in a dry run without changing anything', async () => {
    const before = await keyRow(a.companyId);
    const dry = await cli(['rotate', '--new-key-file', keyFile, '--dry-run']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain(`would re-wrap the data key of company ${a.companyId}`);
    expect(await keyRow(a.companyId)).toEqual(before);
  });

  it('re-wraps the data key: the new key decrypts, the old one no longer does; runs again as a no-op', async () => {
    const before = await keyRow(a.companyId);
    const keyless = await registerCompany(t, 'No Secrets Co');
    const run = await cli([
      'rotate',
      '--new-key-file',
      keyFile,
      '--company',
      a.companyId,
      '--company',
      keyless.companyId,
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/re-wrapped 1, already under [0-9a-f]{16}: 0, without a data key: 1, failed: 0/);

    const after = await keyRow(a.companyId);
    expect(after.master_key_id).toBe(masterKeyId(newKey));
    expect(after.wrapped_key).not.toBe(before.wrapped_key);
    expect(after.rotated_at).toBeInstanceOf(Date);
    const audit = await t.owner.query(
      "select actor_type, actor_id, metadata from audit_events where company_id = $1 and action = 'company.key_rewrapped'",
      [a.companyId],
    );
    expect(audit.rows).toEqual([
      {
        actor_type: 'system',
        actor_id: 'master-key-rotation',
        metadata: { fromKeyId: masterKeyId(t.config.masterKey), toKeyId: masterKeyId(newKey) },
      },
    ]);

    // Idempotent and resumable: a second run finds the key done.
    const again = await cli(['rotate', '--new-key', newKeyB64, '--company', a.companyId]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('re-wrapped 0, already under');
    expect(again.err).toContain('shell history');
    expect((await keyRow(a.companyId)).wrapped_key).toBe(after.wrapped_key);

    // The app still on the old key can no longer decrypt: a server fault that passes once it runs with the right
    // key, answered 503 with Retry-After and a generic detail (no key ids, no secret), for a test call and for a
    // new secret alike ...
    const oldKeyId = masterKeyId(t.config.masterKey);
    const old = await t
      .http()
      .post(`/v1/connectors/${connectorId}/test`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expectProblem(old, 503, 'INTERNAL');
    expect(Number(old.headers['retry-after'])).toBeGreaterThan(0);
    expect(old.text).not.toContain(secret);
    const sealing = await t
      .http()
      .patch(`/v1/connectors/${connectorId}`)
      .auth(a.admin.accessToken, { type: 'bearer' })
      .send({ secret: `${secret}-stale` });
    expectProblem(sealing, 503, 'INTERNAL');
    expect(sealing.headers['retry-after']).toBeDefined();
    for (const res of [old, sealing]) {
      expect(res.text).not.toContain(oldKeyId);
      expect(res.text).not.toContain(masterKeyId(newKey));
      expect(res.body.detail).not.toMatch(/master key|data key/i);
    }
    // ... and one started with the new key does: the secret arrives intact.
    const next = await startTestApp({ TENANTRY_MASTER_KEY: newKeyB64 });
    try {
      const res = await next
        .http()
        .post(`/v1/connectors/${connectorId}/test`)
        .auth(a.admin.accessToken, { type: 'bearer' });
      expect(res.body).toMatchObject({ ok: true, status: 200 });
      expect(endpoint.on('/rotate').at(-1)!.headers.authorization).toBe(`Bearer ${secret}`);
      // New secrets keep using the same (re-wrapped) data key.
      const patched = await next
        .http()
        .patch(`/v1/connectors/${connectorId}`)
        .auth(a.admin.accessToken, { type: 'bearer' })
        .send({ secret: `${secret}-2` });
      expect(patched.status).toBe(200);
      expect((await keyRow(a.companyId)).wrapped_key).toBe(after.wrapped_key);
    } finally {
      await next.close();
    }
    const status = await cli(['status', '--company', a.companyId]);
    expect(status.out).toContain(`${masterKeyId(newKey)}: 1 company`);
    expect(status.out).not.toContain('(configured)');
  });

  it('reports a key wrapped by a master key it does not know, and fails', async () => {
    const other = randomBytes(32).toString('base64');
    const res = await cli(['rotate', '--new-key', other, '--company', a.companyId]);
    expect(res.code).toBe(1);
    expect(res.out).toContain('neither the current');
  });
});
