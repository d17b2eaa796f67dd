import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, parseAuditExport, type Schemas, type TenantryClient } from '../sdk/src/index.js';
import { RunWorker } from '../src/runs/run-worker.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { drainMail, invitationLink, tempOutbox } from './harness/mail.js';
import { waitFor } from './harness/runs.js';
import { TEST_PASSWORD, uniqueEmail } from './harness/session.js';

/** The body of a successful answer; fails the test with the problem otherwise. */
function ok<T, E>(result: { data?: T; error?: E; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${result.response.status} ${result.response.url}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

/** The value, failing the test when it is missing. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/**
 * The main product flow driven through the SDK (sdk/, generated from openapi.json) against the real app over
 * HTTP, without a single cast: a contract change that breaks clients breaks this suite (at compile time in
 * `npm run typecheck`, or here at run time).
 */
describe('SDK: the main flow through the generated client', () => {
  let t: TestApp;
  let endpoint: TestEndpoint;
  let outbox: string;
  let baseUrl: string;

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    endpoint = await startTestEndpoint();
    const json = (body: object) => (_req: unknown, res: ServerResponse) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    endpoint.handle('/sla/verify', json({ downtimeMinutes: 95, availability: '99.78%', creditPercent: 10 }));
    endpoint.handle('/billing/credit', json({ creditNoteId: 'cn-2026-001' }));
    endpoint.handle('/crm/note', json({ noteId: 'note-1' }));
    t.app.get(RunWorker).start({ pollIntervalMs: 50, leaseMs: 5_000, backoffBaseMs: 20, stopGraceMs: 2_000 });
  });

  afterAll(async () => {
    await t.close();
    await endpoint.close();
  });

  it('registers, invites a manager, binds connectors, runs a catalog template to approval and audits it', async () => {
    const anonymous = createClient({ baseUrl });

    // Register: the owner of a new company.
    const ownerEmail = uniqueEmail('sdk-owner');
    const registered = await anonymous.POST('/v1/auth/register', {
      body: { email: ownerEmail, password: TEST_PASSWORD, name: 'Olga Owner', companyName: 'SDK Corp' },
    });
    expect(registered.response.status, JSON.stringify(registered.error)).toBe(201);
    const session = ok(registered);
    expect(session.role).toBe('owner');
    // Every response carries the IETF rate-limit fields and a request id (declared in the document).
    expect(registered.response.headers.get('ratelimit-policy')).toMatch(/^"ip";q=\d+;w=60$/);
    expect(registered.response.headers.get('x-request-id')).toBeTruthy();
    const owner: TenantryClient = createClient({ baseUrl, token: session.accessToken });
    const companyId = session.company.id;

    // Invite a manager and accept with the link from the outbox.
    const managerEmail = uniqueEmail('sdk-manager');
    const invited = await owner.POST('/v1/companies/{companyId}/invitations', {
      params: { path: { companyId } },
      body: { email: managerEmail, role: 'manager' },
    });
    expect(invited.response.status, JSON.stringify(invited.error)).toBe(201);
    await drainMail(t);
    const { token } = invitationLink(outbox, managerEmail);
    const accepted = await anonymous.POST('/v1/invitations/accept', {
      body: { token, password: TEST_PASSWORD, name: 'Max Manager' },
    });
    expect(accepted.response.status, JSON.stringify(accepted.error)).toBe(201);
    const managerSession = ok(accepted);
    expect(managerSession.role).toBe('manager');
    expect(managerSession.company.id).toBe(companyId);
    const manager = createClient({ baseUrl, token: managerSession.accessToken });

    // Bind the template's tools to a local test endpoint; test one without a body (all its fields are optional).
    const tools: [string, string][] = [
      ['sla.breach.verify', '/sla/verify'],
      ['billing.credit.create', '/billing/credit'],
      ['crm.note.create', '/crm/note'],
    ];
    const connectors: Schemas['ConnectorDto'][] = [];
    for (const [toolId, path] of tools) {
      const created = await owner.POST('/v1/connectors', {
        body: { toolId, endpointUrl: endpoint.url(path), authScheme: 'none' },
      });
      expect(created.response.status, JSON.stringify(created.error)).toBe(201);
      connectors.push(ok(created));
    }
    const tested = await owner.POST('/v1/connectors/{id}/test', {
      params: { path: { id: connectors[1].id } },
    });
    expect(ok(tested)).toMatchObject({ ok: true, status: 200 });

    // Start a run of the catalog template; it parks on the manager's approval.
    const catalog = await owner.GET('/v1/templates', {
      params: { query: { q: 'SLA service credit', limit: 5 } },
    });
    const template = present(
      ok(catalog).data.find((entry) => entry.key === 'customer-operations.service-credit'),
      'the service-credit template',
    );
    const started = await owner.POST('/v1/runs', {
      body: {
        templateId: template.id,
        input: { accountId: 'acc-7', incidentId: 'inc-42', month: '2026-11' },
      },
      headers: { 'Idempotency-Key': `sdk-${ownerEmail}` },
    });
    expect(started.response.status, JSON.stringify(started.error)).toBe(202);
    const runId = ok(started).id;
    expect(started.response.headers.get('location')).toBe(`/v1/runs/${runId}`);

    const readRun = async (): Promise<Schemas['RunDto']> => {
      const { data, error } = await owner.GET('/v1/runs/{id}', { params: { path: { id: runId } } });
      if (!data) throw new Error(`reading the run failed: ${JSON.stringify(error)}`);
      return data;
    };
    const parked = await waitFor(
      readRun,
      (run) => ['parked', 'failed'].includes(run.status),
      'the run to park',
    );
    expect(parked.status, JSON.stringify(parked)).toBe('parked');
    expect(parked.parked).toMatchObject({ stepId: 'manager-approval', minRole: 'manager' });
    expect(present(parked.parked, 'the parked state').prompt).toContain('Measured downtime 95 min');

    // Four-eyes: the owner started it, so the owner may not approve it; the manager does.
    const ownVerdict = await owner.POST('/v1/runs/{id}/verdict', {
      params: { path: { id: runId } },
      body: { decision: 'approve' },
    });
    expect(ownVerdict.response.status).toBe(403);
    expect(ownVerdict.error).toMatchObject({ code: 'FORBIDDEN' });
    const verdict = await manager.POST('/v1/runs/{id}/verdict', {
      params: { path: { id: runId } },
      body: { decision: 'approve', comment: 'Breach confirmed' },
    });
    expect(verdict.response.status, JSON.stringify(verdict.error)).toBeLessThan(300);

    const done = await waitFor(
      readRun,
      (run) => ['succeeded', 'failed'].includes(run.status),
      'the run to end',
    );
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.steps.map((step) => step.status)).toEqual([
      'succeeded',
      'approved',
      'succeeded',
      'succeeded',
    ]);
    expect(done.verdicts).toMatchObject([{ stepId: 'manager-approval', decision: 'approve' }]);
    // The connector test called it once before the run; the run called it once.
    expect(endpoint.on('/billing/credit')).toHaveLength(2);

    // The timeline, oldest first.
    const events = await owner.GET('/v1/runs/{id}/events', {
      params: { path: { id: runId }, query: { limit: 100 } },
    });
    const types = ok(events).data.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['run.queued', 'run.parked', 'run.verdict', 'run.resumed']));
    expect(types[types.length - 1]).toBe('run.succeeded');

    // The audit trail: the run's events, a valid chain, and an export that ends with its trailer.
    const runAudit = await owner.GET('/v1/audit-events', {
      params: { query: { targetType: 'Run', targetId: runId, limit: 100 } },
    });
    const auditEvents = ok(runAudit).data;
    const actions = auditEvents.map((event) => event.action);
    expect(actions).toEqual(
      expect.arrayContaining(['run.started', 'run.parked', 'run.verdict_given', 'run.succeeded']),
    );
    const verdictEvent = auditEvents.find((event) => event.action === 'run.verdict_given');
    expect(verdictEvent?.actor.id).toBe(managerSession.user.id);

    const verified = await owner.GET('/v1/audit-events/verify');
    const verification = ok(verified);
    expect(verification).toMatchObject({ valid: true });
    const exported = await owner.GET('/v1/audit-events/export', { parseAs: 'text' });
    expect(exported.response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const { events: lines, trailer } = parseAuditExport(ok(exported));
    expect(lines.map((event) => event.action)).toEqual(
      expect.arrayContaining(['member.invited', 'invitation.accepted']),
    );
    expect(trailer.count).toBe(lines.length);
    expect(trailer.headHash).toBe(verification.headHash);

    // Another company's credential sees none of it.
    const other = await anonymous.POST('/v1/auth/register', {
      body: {
        email: uniqueEmail('sdk-other'),
        password: TEST_PASSWORD,
        name: 'Otto',
        companyName: 'Other Corp',
      },
    });
    const outsider = createClient({ baseUrl, token: ok(other).accessToken });
    const foreign = await outsider.GET('/v1/runs/{id}', { params: { path: { id: runId } } });
    expect(foreign.response.status).toBe(404);
    expect(foreign.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});
