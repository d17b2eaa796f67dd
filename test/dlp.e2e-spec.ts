import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEngine } from '../src/runs/run-engine.js';
import type { RunWorkerHandle } from '../src/runs/run-execution.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { sendJson, startTestEndpoint, type TestEndpoint } from './harness/endpoint.js';
import { expectProblem } from './harness/problem.js';
import { bindTool, publishDraft } from './harness/runs.js';
import { createCompanySession, type Actor, type CompanySession } from './harness/session.js';

// The run engine is driven job by job here (RunEngine.process on this suite's own runs); no worker polls the
// queue, so this suite never takes another suite's jobs.

/** Every log line the application writes during the suite (pino at trace level, captured in memory). */
const logLines: string[] = [];
/** Every response body this suite received. */
const responses: string[] = [];

function startCapturingApp(): Promise<TestApp> {
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  return startTestApp({ LOG_LEVEL: 'trace' }, pino({ level: 'trace' }, sink));
}

const hex = () => randomBytes(4).toString('hex');

/** A fresh Visa number that passes Luhn. */
function cardNumber(): string {
  const body = `4${Array.from({ length: 14 }, () => Math.floor(Math.random() * 10)).join('')}`;
  for (let check = 0; check < 10; check++) {
    const digits = body + String(check);
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return digits;
  }
  throw new Error('unreachable');
}

const ssn = () =>
  `${100 + Math.floor(Math.random() * 500)}-${10 + Math.floor(Math.random() * 89)}-${1000 + Math.floor(Math.random() * 8999)}`;

/** Values this suite plants that a rule blocks or redacts: none may ever come back in a response, an audit event or a log line. */
const planted: string[] = [];
function plant<T extends string>(value: T): T {
  planted.push(value);
  return value;
}
/**
 * Values a rule matches but keeps where they are stored (`audit`, or a rule of another scope): the company's own
 * data may show them, but never an audit event or a log line.
 */
const kept: string[] = [];
function plantKept<T extends string>(value: T): T {
  kept.push(value);
  return value;
}

describe('DLP', () => {
  let t: TestApp;
  let endpoint: TestEndpoint;
  let a: CompanySession;
  let b: CompanySession;
  let versionId: string;
  const handle: RunWorkerHandle = {
    instanceId: 'dlp-suite',
    settings: { leaseMs: 60_000, deferMs: 1_000, backoffBaseMs: 10, backoffMaxMs: 10 },
    stopping: false,
    track: () => undefined,
    untrack: () => undefined,
  };

  const send = async (
    actor: Actor,
    method: 'get' | 'post' | 'put' | 'patch',
    path: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    let req = t.http()[method](path).auth(actor.accessToken, { type: 'bearer' }).set(headers).buffer(true);
    if (body !== undefined) req = req.send(body);
    const res = await req;
    responses.push(`${JSON.stringify(res.headers)}\n${res.text ?? ''}`);
    return res;
  };

  /** The policy every scenario uses (each rule's scopes say where it bites). */
  const POLICY = {
    rules: [
      { detector: 'us_ssn', action: 'block' },
      { detector: 'credit_card', action: 'redact' },
      { detector: 'email', action: 'audit' },
      { detector: 'secret', action: 'block', scopes: ['workspace', 'run_input'] },
      { detector: 'custom', action: 'redact', pattern: 'REQX-[0-9a-f]{8}', scopes: ['connector_request'] },
      { detector: 'custom', action: 'block', pattern: 'REQB-[0-9a-f]{8}', scopes: ['connector_request'] },
      { detector: 'custom', action: 'redact', pattern: 'OUTX-[0-9a-f]{8}', scopes: ['step_output'] },
      { detector: 'custom', action: 'block', pattern: 'OUTB-[0-9a-f]{8}', scopes: ['step_output'] },
      { detector: 'phone', action: 'redact', scopes: ['listing'] },
      { detector: 'custom', action: 'block', pattern: 'LISTB-[0-9a-f]{8}', scopes: ['listing'] },
    ],
  };

  /** Starts a run of the echo process and executes it to its end; returns the run. */
  async function runToEnd(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const started = await send(a.member, 'post', '/v1/runs', {
      draftVersionId: versionId,
      input: { note: '', answer: '', ...input },
    });
    expect(started.status, started.text).toBe(202);
    const runId = started.body.id as string;
    await t.app.get(RunEngine).process({ companyId: a.companyId, runId }, handle);
    const run = await send(a.member, 'get', `/v1/runs/${runId}`);
    expect(run.status).toBe(200);
    return run.body as Record<string, unknown>;
  }

  async function auditEvents(actor: Actor): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const res = await send(
        actor,
        'get',
        `/v1/audit-events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status, res.text).toBe(200);
      out.push(...(res.body.data as Record<string, unknown>[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    return out;
  }

  beforeAll(async () => {
    t = await startCapturingApp();
    endpoint = await startTestEndpoint();
    [a, b] = await Promise.all([createCompanySession(t, 'DLP A'), createCompanySession(t, 'DLP B')]);
    // The connector echoes the payload it received, plus whatever `answer` asked it to add.
    endpoint.handle('/echo', (req, res) => {
      const body = JSON.parse(req.body) as { note?: string; answer?: string };
      sendJson(res, 200, { received: body.note ?? null, extra: body.answer ?? null });
    });
    await bindTool(t, a.admin, 'dlp.echo', endpoint.url('/echo'));
    versionId = await publishDraft(t, a.manager, {
      inputSchema: {
        type: 'object',
        properties: { note: { type: 'string' }, answer: { type: 'string' }, customer: { type: 'object' } },
      },
      steps: [
        {
          id: 'echo',
          kind: 'tool',
          name: 'Echo',
          toolId: 'dlp.echo',
          input: { note: '{{input.note}}', answer: '{{input.answer}}' },
        },
      ],
    });
    const put = await send(a.admin, 'put', '/v1/dlp-policy', POLICY);
    expect(put.status, put.text).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
    await endpoint?.close();
  });

  describe('policy', () => {
    it('is read by members, set by admins only, validated, and audited', async () => {
      const got = await send(a.member, 'get', '/v1/dlp-policy');
      expect(got.status).toBe(200);
      expect(got.body.rules).toEqual(POLICY.rules);
      expect(got.body.version).toBeGreaterThanOrEqual(1);
      // Another company sees its own (empty) policy.
      const other = await send(b.member, 'get', '/v1/dlp-policy');
      expect(other.body).toEqual({ rules: [], version: 0, updatedAt: null });

      expectProblem(await send(a.member, 'put', '/v1/dlp-policy', { rules: [] }), 403, 'FORBIDDEN');
      expectProblem(await send(a.manager, 'put', '/v1/dlp-policy', { rules: [] }), 403, 'FORBIDDEN');

      const bad = await send(b.admin, 'put', '/v1/dlp-policy', {
        rules: [{ detector: 'custom', action: 'block', pattern: '^(a|aa)*(?=b)$' }],
      });
      expectProblem(bad, 400, 'VALIDATION_FAILED');
      expect(bad.body.errors[0].field).toBe('rules.0.pattern');
      const missing = await send(b.admin, 'put', '/v1/dlp-policy', {
        rules: [{ detector: 'custom', action: 'block' }],
      });
      expect(missing.body.errors[0].field).toBe('rules.0.pattern');
      const stray = await send(b.admin, 'put', '/v1/dlp-policy', {
        rules: [{ detector: 'email', action: 'block', pattern: 'x' }],
      });
      expect(stray.body.errors[0].field).toBe('rules.0.pattern');
      const many = await send(b.admin, 'put', '/v1/dlp-policy', {
        rules: Array.from({ length: 21 }, (_, i) => ({
          detector: 'custom',
          action: 'audit',
          pattern: `x${i}`,
        })),
      });
      expectProblem(many, 400, 'VALIDATION_FAILED');
      expect(many.body.errors[0].field).toBe('rules.20');
      expectProblem(
        await send(b.admin, 'put', '/v1/dlp-policy', { rules: [{ detector: 'dna', action: 'block' }] }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await send(b.admin, 'put', '/v1/dlp-policy', {
          rules: [{ detector: 'email', action: 'block', scopes: ['everywhere'] }],
        }),
        400,
        'VALIDATION_FAILED',
      );

      const events = await auditEvents(a.admin);
      const updated = events.find((e) => e.action === 'dlp.policy_updated');
      expect(updated?.metadata).toMatchObject({ version: 1 });
      expect(JSON.stringify(updated)).not.toContain('REQX');
    });

    it('tests a text: detector and offsets, never the text', async () => {
      const card = plant(cardNumber());
      const text = `pay ${card} or REQX-${hex()}`;
      const res = await send(a.member, 'post', '/v1/dlp-policy/test', { text });
      expect(res.status, res.text).toBe(200);
      expect(res.body.findings).toEqual([
        { detector: 'credit_card', start: 4, end: 4 + card.length },
        { detector: 'custom', start: 4 + card.length + 4, end: text.length },
      ]);
      expect(res.text).not.toContain(card);
    });
  });

  describe('run input', () => {
    it('a block refuses the start with 422 DLP_BLOCKED naming detector and field path', async () => {
      const number = plant(ssn());
      const res = await send(a.member, 'post', '/v1/runs', {
        draftVersionId: versionId,
        input: { customer: { name: 'Ann', tax: `ssn ${number}` } },
      });
      expectProblem(res, 422, 'DLP_BLOCKED');
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          detector: 'us_ssn',
          path: 'input.customer.tax',
          field: 'input.customer.tax',
        }),
      ]);
      const events = await auditEvents(a.admin);
      const blocked = events.find((e) => e.action === 'dlp.blocked');
      expect(blocked?.metadata).toEqual({
        scope: 'run_input',
        detectors: { us_ssn: 1 },
        paths: ['input.customer.tax'],
      });
    });

    it('a redaction changes the stored input, and the event commits with the run', async () => {
      const card = plant(cardNumber());
      const mail = plantKept(`dlp-${hex()}@example.com`);
      const run = await runToEnd({ customer: { card: `card ${card}`, mail } });
      expect(run.input).toMatchObject({ customer: { card: 'card [REDACTED:credit_card]', mail } });
      const events = await auditEvents(a.admin);
      const redacted = events.find(
        (e) => e.action === 'dlp.redacted' && (e.target as { id?: string } | null)?.id === run.id,
      );
      expect(redacted?.metadata).toEqual({
        scope: 'run_input',
        detectors: { credit_card: 1 },
        paths: ['input.customer.card'],
      });
      const detected = events.find(
        (e) => e.action === 'dlp.detected' && (e.target as { id?: string } | null)?.id === run.id,
      );
      expect(detected?.metadata).toMatchObject({ scope: 'run_input', detectors: { email: 1 } });
    });
  });

  describe('run engine', () => {
    it('connector_request: a redaction changes what is sent; a block sends nothing and fails the step', async () => {
      const token = plantKept(`REQX-${hex()}`);
      const run = await runToEnd({ note: `ref ${token}` });
      expect(run.status).toBe('succeeded');
      const sent = endpoint.on('/echo').at(-1)!;
      expect(sent.body).not.toContain(token);
      expect(JSON.parse(sent.body)).toMatchObject({ note: 'ref [REDACTED:custom]' });
      // The run's own input keeps it (the rule is scoped to what leaves).
      expect(run.input).toMatchObject({ note: `ref ${token}` });

      const calls = endpoint.on('/echo').length;
      const blocked = plantKept(`REQB-${hex()}`);
      const refused = await runToEnd({ note: `ref ${blocked}` });
      expect(endpoint.on('/echo').length).toBe(calls);
      expect(refused.status).toBe('failed');
      const step = (refused.steps as Record<string, unknown>[])[0];
      expect(step.error).toEqual({
        reason: 'dlp_blocked',
        message: "Refused by the company's DLP policy (connector_request): custom at steps.echo.request.note",
      });
      const events = await auditEvents(a.admin);
      expect(
        events.find(
          (e) => e.action === 'dlp.blocked' && (e.target as { id?: string } | null)?.id === refused.id,
        )?.metadata,
      ).toEqual({
        scope: 'connector_request',
        detectors: { custom: 1 },
        paths: ['steps.echo.request.note'],
      });
    });

    it('step_output: a redaction changes what is stored; a block stores nothing and fails the step', async () => {
      const out = plantKept(`OUTX-${hex()}`);
      const run = await runToEnd({ answer: `got ${out}` });
      expect(run.status).toBe('succeeded');
      const step = (run.steps as Record<string, unknown>[])[0];
      expect(step.output).toEqual({ received: '', extra: 'got [REDACTED:custom]' });
      const events = await auditEvents(a.admin);
      expect(
        events.find((e) => e.action === 'dlp.redacted' && (e.target as { id?: string } | null)?.id === run.id)
          ?.metadata,
      ).toEqual({
        scope: 'step_output',
        detectors: { custom: 1 },
        paths: ['steps.echo.output.extra'],
      });

      const bad = plantKept(`OUTB-${hex()}`);
      const refused = await runToEnd({ answer: bad });
      expect(refused.status).toBe('failed');
      const failed = (refused.steps as Record<string, unknown>[])[0];
      expect(failed.output).toBeNull();
      expect(failed.error).toMatchObject({ reason: 'dlp_blocked' });
    });
  });

  describe('workspace', () => {
    it('cards: a block answers 422; a redaction is what is stored', async () => {
      const board = await send(a.manager, 'post', '/v1/boards', { name: `DLP ${hex()}` });
      expect(board.status, board.text).toBe(201);
      const columnId = (board.body.columns as { id: string }[])[0].id;
      const cards = `/v1/boards/${board.body.id as string}/cards`;
      const key = plant(`sk_live_${randomBytes(18).toString('hex')}`);
      const refused = await send(a.member, 'post', cards, { columnId, title: 'Keys', description: key });
      expectProblem(refused, 422, 'DLP_BLOCKED');
      expect(refused.body.errors).toEqual([
        expect.objectContaining({ detector: 'secret', path: 'description' }),
      ]);

      const card = plant(cardNumber());
      const created = await send(a.member, 'post', cards, {
        columnId,
        title: `Refund ${card}`,
        labels: ['ok'],
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body.title).toBe('Refund [REDACTED:credit_card]');
      const other = plant(cardNumber());
      const updated = await send(
        a.member,
        'patch',
        `/v1/cards/${created.body.id as string}`,
        { description: `new card ${other}` },
        { 'If-Match': `"${created.body.version as number}"` },
      );
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body.description).toBe('new card [REDACTED:credit_card]');
    });

    it('wiki pages: a block answers 422; a redaction is what is stored', async () => {
      const number = plant(ssn());
      const refused = await send(a.member, 'post', '/v1/wiki/pages', { title: 'HR', body: `SSN ${number}` });
      expectProblem(refused, 422, 'DLP_BLOCKED');
      expect(refused.body.errors).toEqual([expect.objectContaining({ detector: 'us_ssn', path: 'body' })]);
      const card = plant(cardNumber());
      const page = await send(a.member, 'post', '/v1/wiki/pages', {
        title: `Cards ${hex()}`,
        body: `Corporate card: ${card}`,
      });
      expect(page.status, page.text).toBe(201);
      expect(page.body.body).toBe('Corporate card: [REDACTED:credit_card]');
      const other = plant(ssn());
      const edit = await send(
        a.member,
        'patch',
        `/v1/wiki/pages/${page.body.id as string}`,
        { body: `now ${other}` },
        { 'If-Match': '"1"' },
      );
      expectProblem(edit, 422, 'DLP_BLOCKED');
      const stored = await send(a.member, 'get', `/v1/wiki/pages/${page.body.id as string}`);
      expect(stored.body.version).toBe(1);
    });

    it('another company without a policy stores the same text as sent', async () => {
      const board = await send(b.manager, 'post', '/v1/boards', { name: `DLP B ${hex()}` });
      const columnId = (board.body.columns as { id: string }[])[0].id;
      const text = `Refund ${cardNumber()}`;
      const created = await send(b.member, 'post', `/v1/boards/${board.body.id as string}/cards`, {
        columnId,
        title: text,
      });
      expect(created.body.title).toBe(text);
    });
  });

  describe('listing', () => {
    /** A published draft of company A with `description`; returns its id. */
    async function draftWith(description: string): Promise<string> {
      const created = await t
        .http()
        .post('/v1/drafts')
        .auth(a.manager.accessToken, { type: 'bearer' })
        .send({
          name: `Listed ${hex()}`,
          description,
          category: 'procurement',
          inputSchema: { type: 'object', properties: {} },
          steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'ok?' }],
        });
      expect(created.status, created.text).toBe(201);
      const id = created.body.id as string;
      const published = await send(a.manager, 'post', `/v1/drafts/${id}/publish`);
      expect(published.status, published.text).toBe(200);
      return id;
    }

    it("secrets are refused always, the publisher's listing rules block and redact", async () => {
      const key = plantKept(`sk_live_${randomBytes(18).toString('hex')}`);
      const refused = await send(a.manager, 'post', `/v1/drafts/${await draftWith(`key ${key}`)}/listing`, {
        publisherName: 'DLP guild',
      });
      expectProblem(refused, 422, 'DLP_BLOCKED');
      expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'description' })]);
      expect(refused.text).not.toContain(key);

      const token = plantKept(`LISTB-${hex()}`);
      const ruled = await send(a.manager, 'post', `/v1/drafts/${await draftWith(`ref ${token}`)}/listing`, {
        publisherName: 'DLP guild',
      });
      expectProblem(ruled, 422, 'DLP_BLOCKED');
      expect(ruled.body.errors).toEqual([expect.objectContaining({ field: 'description' })]);
      const blocked = (await auditEvents(a.admin)).filter(
        (e) => e.action === 'dlp.blocked' && (e.metadata as { scope: string }).scope === 'listing',
      );
      expect(blocked.map((e) => e.metadata)).toEqual(
        expect.arrayContaining([
          { scope: 'listing', detectors: { secret: 1 }, paths: ['description'] },
          { scope: 'listing', detectors: { custom: 1 }, paths: ['description'] },
        ]),
      );

      const phone = plantKept(`+1 415 555 ${String(1000 + Math.floor(Math.random() * 8999))}`);
      const listed = await send(a.manager, 'post', `/v1/drafts/${await draftWith(`call ${phone}`)}/listing`, {
        publisherName: 'DLP guild',
      });
      expect(listed.status, listed.text).toBe(200);
      const seen = await send(b.member, 'get', `/v1/marketplace/${listed.body.listingId as string}`);
      expect(seen.status, seen.text).toBe(200);
      expect(seen.body.description).toBe('call [REDACTED:phone]');
      expect(seen.text).not.toContain(phone);
      const redacted = (await auditEvents(a.admin)).find(
        (e) => e.action === 'dlp.redacted' && (e.metadata as { scope: string }).scope === 'listing',
      );
      expect(redacted?.metadata).toEqual({
        scope: 'listing',
        detectors: { phone: 1 },
        paths: ['description'],
      });
    });
  });

  it('no planted value appears in any response, audit event or log line', async () => {
    expect(planted.length).toBeGreaterThanOrEqual(8);
    expect(kept.length).toBe(8);
    // Every audit event of the company, as its admin reads them (these responses are searched too).
    const events = JSON.stringify(await auditEvents(a.admin));
    expect(events).toContain('dlp.blocked');
    const haystacks = { responses: responses.join('\n'), auditEvents: events, logs: logLines.join('') };
    expect(logLines.length).toBeGreaterThan(0);
    // A refusal's request line names the domain error (not its content): `"error":"dlp.Blocked"`.
    const refused = logLines.find((l) => l.includes('"msg":"request"') && l.includes('"status":422'));
    expect(refused).toContain('"error":"dlp.Blocked"');
    for (const value of planted) {
      for (const [where, text] of Object.entries(haystacks)) {
        expect(text.includes(value), `${value} found in ${where}`).toBe(false);
      }
    }
    for (const value of kept) {
      expect(haystacks.auditEvents.includes(value), `${value} found in an audit event`).toBe(false);
      // The ORM's query trace (level 10, `orm: true`) prints the rows written, and a kept value is stored data;
      // every other line must not hold it. (Blocked and redacted values are checked against every line above.)
      const line = logLines.find((l) => l.includes(value) && !l.includes('"orm":true'));
      expect(line?.slice(0, 600), `${value} found in a log line`).toBeUndefined();
    }
  });
});
