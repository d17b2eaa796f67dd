import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/authz/roles.js';
import { RunWorker } from '../src/runs/run-worker.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem } from './harness/problem.js';
import { publishDraft, waitForRun } from './harness/runs.js';
import {
  addMember,
  applicationToken,
  createCompanySession,
  login,
  type CompanySession,
} from './harness/session.js';

/**
 * Every principal acts on behalf of a person (a user; an API key's or an application's creator), and every
 * person-based rule (four-eyes, "your own draft", "your own run", self-removal) compares that person: one's
 * own API key or application is oneself, never "someone else".
 */
describe('principals act on behalf of their creator', () => {
  let t: TestApp;
  let a: CompanySession;
  let approvalVersion: string;
  /** A second owner: owners create applications, and removing one leaves another. */
  let owner2: { userId: string; accessToken: string };

  const bearer = (token: string) => ({
    get: (path: string) => t.http().get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body?: object) => t.http().post(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object) => t.http().patch(path).auth(token, { type: 'bearer' }).send(body),
    delete: (path: string) => t.http().delete(path).auth(token, { type: 'bearer' }),
  });

  /** An API key created by `creatorToken` (an admin or owner) with `role`. */
  async function apiKey(creatorToken: string, role: Role): Promise<string> {
    const res = await bearer(creatorToken).post('/v1/api-keys', { name: `acting ${role}`, role });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.key as string;
  }

  /** A client-credentials token of an application created by `ownerToken` with `role`. */
  async function application(ownerToken: string, role: Role): Promise<string> {
    const res = await bearer(ownerToken).post('/v1/applications', { name: `acting ${role}`, role });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return applicationToken(t, res.body as { clientId: string; clientSecret: string });
  }

  async function parkedRun(token: string): Promise<string> {
    const started = await bearer(token).post('/v1/runs', { draftVersionId: approvalVersion });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.id as string;
    await waitForRun(t, a.member, id, ['parked']);
    return id;
  }

  async function draftBy(token: string): Promise<string> {
    const res = await bearer(token).post('/v1/drafts', {
      name: `Acting draft ${Math.random().toString(36).slice(2, 8)}`,
      description: 'whose is it',
      category: 'finance',
      inputSchema: { type: 'object', properties: {} },
      steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Approve?' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Acting A');
    const second = await addMember(t, a.companyId, 'owner');
    owner2 = { userId: second.userId, accessToken: (await login(t, second.email, a.slug)).accessToken };
    approvalVersion = await publishDraft(t, a.manager, {
      steps: [{ id: 'decide', kind: 'approval', name: 'Decide', minRole: 'manager', prompt: 'Go?' }],
    });
    t.app.get(RunWorker).start({ pollIntervalMs: 50, leaseMs: 5_000, backoffBaseMs: 20, stopGraceMs: 2_000 });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('four-eyes', () => {
    it("holds against one's own application: the owner cannot approve through it (the review's bypass)", async () => {
      const id = await parkedRun(a.owner.accessToken);
      expectProblem(
        await bearer(a.owner.accessToken).post(`/v1/runs/${id}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );
      const ownApp = await application(a.owner.accessToken, 'manager');
      const viaApp = await bearer(ownApp).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expectProblem(viaApp, 403, 'FORBIDDEN');
      expect(viaApp.body.detail).toMatch(/four-eyes/i);
      // Someone else's application is someone else.
      const otherApp = await application(owner2.accessToken, 'manager');
      const ok = await bearer(otherApp).post(`/v1/runs/${id}/verdict`, { decision: 'approve' });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.verdicts).toMatchObject([{ decision: 'approve', givenByUserId: owner2.userId }]);
    });

    it("holds for a run one's application started, and for one's API keys either way", async () => {
      const ownApp = await application(a.owner.accessToken, 'manager');
      const byApp = await parkedRun(ownApp);
      expect((await bearer(a.member.accessToken).get(`/v1/runs/${byApp}`)).body.startedBy).toMatchObject({
        type: 'application',
        userId: a.owner.userId,
      });
      expectProblem(
        await bearer(a.owner.accessToken).post(`/v1/runs/${byApp}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );

      const adminKey = await apiKey(a.admin.accessToken, 'manager');
      const byAdmin = await parkedRun(a.admin.accessToken);
      expectProblem(
        await bearer(adminKey).post(`/v1/runs/${byAdmin}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );
      const byKey = await parkedRun(adminKey);
      expectProblem(
        await bearer(a.admin.accessToken).post(`/v1/runs/${byKey}/verdict`, { decision: 'approve' }),
        403,
        'FORBIDDEN',
      );
      // Another person may.
      const ok = await bearer(a.manager.accessToken).post(`/v1/runs/${byKey}/verdict`, {
        decision: 'approve',
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    });
  });

  describe('your own draft', () => {
    it("lets a member-role key or application change its creator's drafts, and no one else's", async () => {
      const memberKey = await apiKey(a.admin.accessToken, 'member');
      const memberApp = await application(a.owner.accessToken, 'member');
      const byAdmin = await draftBy(a.admin.accessToken);
      const byOwner = await draftBy(a.owner.accessToken);
      const byMember = await draftBy(a.member.accessToken);
      const rename = { name: 'Renamed by a credential of the creator' };
      expect((await bearer(memberKey).patch(`/v1/drafts/${byAdmin}`, rename)).status).toBe(200);
      expect((await bearer(memberApp).patch(`/v1/drafts/${byOwner}`, rename)).status).toBe(200);
      expectProblem(await bearer(memberKey).patch(`/v1/drafts/${byMember}`, rename), 404, 'NOT_FOUND');
      expectProblem(await bearer(memberApp).patch(`/v1/drafts/${byMember}`, rename), 404, 'NOT_FOUND');
      // What an application creates is its creator's.
      const byApp = await draftBy(memberApp);
      const draft = await bearer(a.member.accessToken).get(`/v1/drafts/${byApp}`);
      expect(draft.body.createdBy).toBe(a.owner.userId);
    });
  });

  describe('your own run', () => {
    it("lets a member-role key or application cancel its creator's runs, and no one else's", async () => {
      const memberKey = await apiKey(a.admin.accessToken, 'member');
      const memberApp = await application(a.owner.accessToken, 'member');
      const byAdmin = await parkedRun(a.admin.accessToken);
      const byOwner = await parkedRun(a.owner.accessToken);
      const byMember = await parkedRun(a.member.accessToken);
      expectProblem(await bearer(memberKey).post(`/v1/runs/${byMember}/cancel`, {}), 404, 'NOT_FOUND');
      expectProblem(await bearer(memberApp).post(`/v1/runs/${byMember}/cancel`, {}), 404, 'NOT_FOUND');
      const viaKey = await bearer(memberKey).post(`/v1/runs/${byAdmin}/cancel`, {});
      expect(viaKey.status, JSON.stringify(viaKey.body)).toBe(200);
      const viaApp = await bearer(memberApp).post(`/v1/runs/${byOwner}/cancel`, {});
      expect(viaApp.status, JSON.stringify(viaApp.body)).toBe(200);
    });
  });

  describe('self-removal', () => {
    it("lets a member-role key or application remove its creator's membership, and no one else's", async () => {
      const members = (token: string, userId: string) =>
        bearer(token).delete(`/v1/companies/${a.companyId}/members/${userId}`);
      // Admins make API keys: an admin leaves through a member-role key of their own.
      const leaver = await addMember(t, a.companyId, 'admin');
      const leaverToken = (await login(t, leaver.email, a.slug)).accessToken;
      const memberKey = await apiKey(leaverToken, 'member');
      expect((await members(memberKey, a.member.userId)).status).not.toBe(204);
      expect((await members(memberKey, leaver.userId)).status).toBe(204);

      const memberApp = await application(owner2.accessToken, 'member');
      expect((await members(memberApp, a.member.userId)).status).not.toBe(204);
      expect((await members(memberApp, owner2.userId)).status).toBe(204);
      const gone = await t.owner.query('select count(*)::int as n from memberships where user_id = any($1)', [
        [leaver.userId, owner2.userId],
      ]);
      expect(gone.rows[0].n).toBe(0);
    });
  });
});
