import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/authz/roles.js';
import { SESSION } from '../src/tenancy/tenant.entity.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { drainMail, invitationLink, readOutbox, tempOutbox } from './harness/mail.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import {
  addMember,
  createCompanySession,
  login,
  TEST_PASSWORD,
  uniqueEmail,
  type CompanySession,
} from './harness/session.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe('invitations', () => {
  let t: TestApp;
  let outbox: string;
  let a: CompanySession;
  let b: CompanySession;

  const invite = (s: CompanySession, as: Role, body: Record<string, unknown>) =>
    t
      .http()
      .post(`/v1/companies/${s.companyId}/invitations`)
      .auth(s.as(as).accessToken, { type: 'bearer' })
      .send(body);

  /** Invites `email` as `role` (by the owner), delivers the mail and returns the invitation and its token. */
  async function invited(s: CompanySession, role: Role, email = uniqueEmail('invitee'), as: Role = 'owner') {
    const res = await invite(s, as, { email, role });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await drainMail(t);
    return { id: res.body.id as string, email, token: invitationLink(outbox, email).token };
  }

  const accept = (body: Record<string, unknown>, accessToken?: string) => {
    const req = t.http().post('/v1/invitations/accept');
    if (accessToken) void req.auth(accessToken, { type: 'bearer' });
    return req.send(body);
  };

  async function auditActions(companyId: string, targetId: string): Promise<string[]> {
    const { rows } = await t.owner.query<{ action: string }>(
      'select action from audit_events where company_id = $1 and target_id = $2 order by seq',
      [companyId, targetId],
    );
    return rows.map((r) => r.action);
  }

  beforeAll(async () => {
    outbox = tempOutbox();
    t = await startTestApp({ MAIL_OUTBOX_DIR: outbox, PUBLIC_APP_URL: 'https://app.tenantry.test/' });
    a = await createCompanySession(t, 'Invite A');
    b = await createCompanySession(t, 'Invite B');
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(['owner', 'admin', 'manager', 'member'] as const)(
    'runs the whole flow for a %s: invite → .eml in the outbox → accept as a new user → login → role change → removal',
    async (role) => {
      const email = uniqueEmail(`new-${role}`);
      const created = await invite(a, 'owner', { email: email.toUpperCase(), role });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({
        email,
        role,
        status: 'pending',
        resendCount: 0,
        invitedBy: a.owner.userId,
      });
      expect(JSON.stringify(created.body)).not.toMatch(/inv_/);
      const days = (Date.parse(created.body.expiresAt as string) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);

      // Nothing is sent before the drain; then the message is an .eml file with the link.
      expect(readOutbox(outbox).filter((m) => m.to === email)).toEqual([]);
      const report = await drainMail(t);
      expect(report.sent).toBeGreaterThanOrEqual(1);
      const [mail] = readOutbox(outbox).filter((m) => m.to === email);
      expect(mail.subject).toContain('Invite A');
      const { link, token } = invitationLink(outbox, email);
      expect(link.startsWith('https://app.tenantry.test/invitations/accept?token=inv_')).toBe(true);

      // Stored hashed only; the delivered outbox row no longer holds the body.
      const stored = await t.owner.query('select token_hash from invitations where id = $1', [
        created.body.id,
      ]);
      expect(stored.rows).toEqual([{ token_hash: sha256(token) }]);
      const rows = await t.owner.query<{ text: string; html: string | null; sent_at: Date | null }>(
        'select text, html, sent_at from mail_outbox where recipient = $1',
        [email],
      );
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]).toMatchObject({ text: '', html: null });
      expect(rows.rows[0].sent_at).not.toBeNull();

      const joined = await accept({ token, name: `New ${role}`, password: TEST_PASSWORD });
      expect(joined.status, JSON.stringify(joined.body)).toBe(201);
      expect(joined.body).toMatchObject({
        role,
        company: { id: a.companyId, slug: a.slug },
        user: { email, name: `New ${role}` },
        tokenType: 'Bearer',
      });
      expect(decodeJwt(joined.body.accessToken as string)).toMatchObject({ company_id: a.companyId, role });
      const userId = joined.body.user.id as string;

      const session = await login(t, email, a.slug);
      const me = await t.http().get('/v1/me').auth(session.accessToken, { type: 'bearer' });
      expect(me.body).toMatchObject({ role, company: { id: a.companyId } });

      const next: Role = role === 'member' ? 'manager' : 'member';
      const changed = await t
        .http()
        .patch(`/v1/companies/${a.companyId}/members/${userId}`)
        .auth(a.owner.accessToken, { type: 'bearer' })
        .send({ role: next });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      expect(changed.body).toMatchObject({ userId, email, role: next });
      const refreshed = await t.http().post('/v1/auth/refresh').send({ refreshToken: session.refreshToken });
      expect(decodeJwt(refreshed.body.accessToken as string)).toMatchObject({ role: next });

      const removed = await t
        .http()
        .delete(`/v1/companies/${a.companyId}/members/${userId}`)
        .auth(a.owner.accessToken, { type: 'bearer' });
      expect(removed.status, JSON.stringify(removed.body)).toBe(204);
      expectProblem(
        await t.http().post('/v1/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }),
        401,
        'UNAUTHENTICATED',
      );
      expectProblem(
        await t.http().post('/v1/auth/refresh').send({ refreshToken: joined.body.refreshToken }),
        401,
        'UNAUTHENTICATED',
      );

      expect(await auditActions(a.companyId, created.body.id as string)).toEqual([
        'member.invited',
        'invitation.accepted',
      ]);
      expect(await auditActions(a.companyId, userId)).toEqual([
        'member.joined',
        'member.role_changed',
        'member.removed',
      ]);
      const metadata = await t.owner.query<{ metadata: unknown }>(
        'select metadata from audit_events where company_id = $1',
        [a.companyId],
      );
      expect(JSON.stringify(metadata.rows)).not.toContain(token);
    },
  );

  it('mails the link whole on one line of a 7bit plain-text part, and its path serves the accept page', async () => {
    const email = uniqueEmail('copyable');
    expect((await invite(a, 'owner', { email, role: 'manager' })).status).toBe(201);
    await drainMail(t);
    const [mail] = readOutbox(outbox).filter((m) => m.to === email);
    const raw = readFileSync(join(outbox, mail.file), 'utf8');
    const { link, token } = invitationLink(outbox, email);
    // The raw message, undecoded: the text part is 7bit and carries the link exactly, on a line of its own.
    const textPart =
      /Content-Type: text\/plain; charset=utf-8\r?\nContent-Transfer-Encoding: (\S+)\r?\n\r?\n([\s\S]*?)\r?\n--/.exec(
        raw,
      );
    expect(textPart?.[1]).toBe('7bit');
    expect(textPart?.[2].split(/\r?\n/)).toContain(link);
    expect(raw).toContain(`?token=${token}\n`);

    // The link's path on this server is a page that accepts through the API.
    const page = await t.http().get(`${new URL(link).pathname}${new URL(link).search}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain("'/v1/invitations/accept'");
    expect(page.text).not.toContain(token);
  });

  it('lets admins invite up to their own role; owners invite owners; managers and members cannot invite (403)', async () => {
    expect((await invite(a, 'admin', { email: uniqueEmail(), role: 'admin' })).status).toBe(201);
    expect((await invite(a, 'admin', { email: uniqueEmail(), role: 'member' })).status).toBe(201);
    const above = await invite(a, 'admin', { email: uniqueEmail(), role: 'owner' });
    expectProblem(above, 403, 'FORBIDDEN');
    expect(above.body.detail).toMatch(/above your own/);
    expect((await invite(a, 'owner', { email: uniqueEmail(), role: 'owner' })).status).toBe(201);
    for (const role of ['manager', 'member'] as const) {
      expectProblem(await invite(a, role, { email: uniqueEmail(), role: 'member' }), 403, 'FORBIDDEN');
      expectProblem(
        await t
          .http()
          .get(`/v1/companies/${a.companyId}/invitations`)
          .auth(a.as(role).accessToken, { type: 'bearer' }),
        403,
        'FORBIDDEN',
      );
    }
  });

  it('refuses bad input with a clear 4xx and creates nothing', async () => {
    const count = async () =>
      (await t.owner.query('select count(*)::int as n from invitations where company_id = $1', [a.companyId]))
        .rows[0].n as number;
    const before = await count();
    const email = uniqueEmail();
    const bad = [
      [{ email: 'not-an-email', role: 'member' }, 400, 'VALIDATION_FAILED'],
      [{ email, role: 'superuser' }, 400, 'VALIDATION_FAILED'],
      [{ email }, 400, 'VALIDATION_FAILED'],
      [{ email, role: 'member', companyId: b.companyId }, 400, 'VALIDATION_FAILED'],
      [{ email: a.member.email, role: 'member' }, 409, 'CONFLICT'],
      [{ email: a.owner.email.toUpperCase(), role: 'member' }, 409, 'CONFLICT'],
    ] as const;
    for (const [body, status, code] of bad) expectProblem(await invite(a, 'admin', body), status, code);
    expect(await count()).toBe(before);

    // A second pending invitation for the same email is refused: resend the first instead.
    expect((await invite(a, 'admin', { email, role: 'member' })).status).toBe(201);
    const again = await invite(a, 'admin', { email, role: 'manager' });
    expectProblem(again, 409, 'CONFLICT');
    expect(again.body.detail).toMatch(/pending invitation/);
    expect(await count()).toBe(before + 1);
  });

  it("refuses expired, revoked, reused, unknown and malformed tokens (404), and another email's token like an unknown one", async () => {
    const unknown = await accept({ token: 'inv_' + 'x'.repeat(43), name: 'X', password: TEST_PASSWORD });
    expectProblem(unknown, 404, 'NOT_FOUND');
    expectProblem(
      await accept({ token: 'rt_not-an-invitation', name: 'X', password: TEST_PASSWORD }),
      404,
      'NOT_FOUND',
    );
    expectProblem(await accept({}), 400, 'VALIDATION_FAILED');

    const expired = await invited(a, 'member');
    await t.owner.query("update invitations set expires_at = now() - interval '1 minute' where id = $1", [
      expired.id,
    ]);
    const e = await accept({ token: expired.token, name: 'E', password: TEST_PASSWORD });
    expectProblem(e, 404, 'NOT_FOUND');
    expect(e.body.detail).toMatch(/expired/);

    const revoked = await invited(a, 'member');
    const del = await t
      .http()
      .delete(`/v1/companies/${a.companyId}/invitations/${revoked.id}`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(del.status).toBe(204);
    const r = await accept({ token: revoked.token, name: 'R', password: TEST_PASSWORD });
    expectProblem(r, 404, 'NOT_FOUND');
    expect(r.body.detail).toMatch(/revoked/);

    const used = await invited(a, 'member');
    expect((await accept({ token: used.token, name: 'U', password: TEST_PASSWORD })).status).toBe(201);
    const u = await accept({ token: used.token, name: 'U', password: TEST_PASSWORD });
    expectProblem(u, 404, 'NOT_FOUND');
    expect(u.body.detail).toMatch(/already been used/);

    // Signed in as someone else: exactly the answer of an unknown token, nothing consumed.
    const foreign = await invited(a, 'member');
    const asOther = await accept({ token: foreign.token }, b.member.accessToken);
    expectProblem(asOther, 404, 'NOT_FOUND');
    expect(withoutRequestId(asOther.body)).toEqual(withoutRequestId(unknown.body));
    const still = await t.owner.query('select accepted_at from invitations where id = $1', [foreign.id]);
    expect(still.rows).toEqual([{ accepted_at: null }]);
  });

  it('asks an existing account to sign in, then joins it; a member already answers 409 and keeps the token', async () => {
    // b.member has an account (in company B) but is not a member of A.
    const inv = await invited(a, 'manager', b.member.email);
    const anonymous = await accept({ token: inv.token, name: 'Someone' });
    expectProblem(anonymous, 401, 'UNAUTHENTICATED');
    expect(anonymous.body.detail).toMatch(/sign in/);
    // Someone else's password for it: the same 401, and the token stays pending.
    const guessed = await accept({ token: inv.token, password: 'not the password at all' });
    expectProblem(guessed, 401, 'UNAUTHENTICATED');
    const joined = await accept({ token: inv.token }, b.member.accessToken);
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    expect(joined.body).toMatchObject({
      role: 'manager',
      company: { id: a.companyId },
      user: { id: b.member.userId },
    });
    const me = await t.http().get('/v1/me').auth(b.member.accessToken, { type: 'bearer' });
    expect((me.body.memberships as { companyId: string }[]).map((m) => m.companyId)).toContain(a.companyId);

    // Invited, then made a member some other way: accepting answers 409 and the invitation stays pending.
    const email = uniqueEmail('late');
    const late = await invited(a, 'member', email);
    await addMember(t, a.companyId, 'member', email);
    const session = await login(t, email, a.slug);
    expectProblem(await accept({ token: late.token }, session.accessToken), 409, 'CONFLICT');
    const row = await t.owner.query('select accepted_at from invitations where id = $1', [late.id]);
    expect(row.rows).toEqual([{ accepted_at: null }]);
  });

  it('lets someone removed from their only company rejoin with their own password (no session to sign in to)', async () => {
    const email = uniqueEmail('rejoin');
    const first = await invited(a, 'member', email);
    const joined = await accept({ token: first.token, name: 'Rejoiner', password: TEST_PASSWORD });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    const userId = joined.body.user.id as string;
    const removed = await t
      .http()
      .delete(`/v1/companies/${a.companyId}/members/${userId}`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(removed.status, removed.text).toBe(204);
    // Member of no company: signing in has nowhere to go.
    const login = await t.http().post('/v1/auth/login').send({ email, password: TEST_PASSWORD });
    expect(login.status).toBe(401);

    const again = await invited(a, 'member', email);
    const rejoined = await accept({ token: again.token, password: TEST_PASSWORD });
    expect(rejoined.status, JSON.stringify(rejoined.body)).toBe(201);
    expect(rejoined.body).toMatchObject({
      user: { id: userId },
      company: { id: a.companyId },
      role: 'member',
    });
  });

  it('needs a name and a strong password for a new account', async () => {
    const inv = await invited(a, 'member');
    const missing = await accept({ token: inv.token });
    expectProblem(missing, 400, 'VALIDATION_FAILED');
    expect((missing.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'name',
      'password',
    ]);
    expectProblem(await accept({ token: inv.token, name: 'W', password: 'short' }), 400, 'VALIDATION_FAILED');
    expectProblem(
      await accept({ token: inv.token, name: 'W', password: TEST_PASSWORD, role: 'owner' }),
      400,
      'VALIDATION_FAILED',
    );
    const users = await t.owner.query('select count(*)::int as n from users where email = $1', [inv.email]);
    expect(users.rows[0].n).toBe(0);
  });

  it('lets only one of two concurrent accepts of the same token win', async () => {
    const inv = await invited(a, 'member');
    const results = await Promise.all(
      [1, 2].map(() => accept({ token: inv.token, name: 'Racer', password: TEST_PASSWORD })),
    );
    // Whether or not the two overlap, the loser is told exactly what any late accept is told: the token is spent.
    expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).toEqual([
      201, 404,
    ]);
    const loser = results.find((r) => r.status === 404)!;
    expectProblem(loser, 404, 'NOT_FOUND');
    expect(loser.body.detail).toMatch(/already been used|no longer valid/);
    const members = await t.owner.query(
      'select count(*)::int as n from memberships m join users u on u.id = m.user_id where u.email = $1',
      [inv.email],
    );
    expect(members.rows[0].n).toBe(1);
  });

  it('resend rotates the token: the old link dies and the new one works', async () => {
    const inv = await invited(a, 'member');
    const res = await t
      .http()
      .post(`/v1/companies/${a.companyId}/invitations/${inv.id}/resend`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: inv.id, status: 'pending', resendCount: 1 });
    expect(JSON.stringify(res.body)).not.toMatch(/inv_/);
    await drainMail(t);
    const fresh = invitationLink(outbox, inv.email).token;
    expect(fresh).not.toBe(inv.token);
    expect(readOutbox(outbox).filter((m) => m.to === inv.email)).toHaveLength(2);
    expectProblem(await accept({ token: inv.token, name: 'Old', password: TEST_PASSWORD }), 404, 'NOT_FOUND');
    expect((await accept({ token: fresh, name: 'New', password: TEST_PASSWORD })).status).toBe(201);
    expect(await auditActions(a.companyId, inv.id)).toEqual([
      'member.invited',
      'invitation.resent',
      'invitation.accepted',
    ]);

    // Accepted or revoked invitations are not re-sent.
    const again = await t
      .http()
      .post(`/v1/companies/${a.companyId}/invitations/${inv.id}/resend`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    expectProblem(again, 409, 'CONFLICT');
  });

  it('revives an expired invitation on resend', async () => {
    const inv = await invited(a, 'member');
    await t.owner.query("update invitations set expires_at = now() - interval '1 day' where id = $1", [
      inv.id,
    ]);
    const res = await t
      .http()
      .post(`/v1/companies/${a.companyId}/invitations/${inv.id}/resend`)
      .auth(a.owner.accessToken, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('pending');
    await drainMail(t);
    expect(
      (await accept({ token: invitationLink(outbox, inv.email).token, name: 'L', password: TEST_PASSWORD }))
        .status,
    ).toBe(201);
  });

  /** Records `n` invitation mails of `companyId` sent 30 minutes ago (as the owner), to approach the hourly limit. */
  const seedSends = (companyId: string, invitationId: string, n: number) =>
    t.owner.query(
      `insert into invitation_sends (id, company_id, invitation_id, kind, created_at)
         select gen_random_uuid(), $1, $2, 'resent', now() - interval '30 minutes' from generate_series(1, $3)`,
      [companyId, invitationId, n],
    );

  it('limits invitation mails per company per hour (429 with Retry-After), counted in the database', async () => {
    const c = await createCompanySession(t, 'Invite Limits');
    const inv = await invited(c, 'member');
    // The creation was one mail; 99 more make the hundred.
    await seedSends(c.companyId, inv.id, 99);
    const res = await t
      .http()
      .post(`/v1/companies/${c.companyId}/invitations/${inv.id}/resend`)
      .auth(c.admin.accessToken, { type: 'bearer' });
    expectProblem(res, 429, 'RATE_LIMITED');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(25 * 60);
    expect(retryAfter).toBeLessThanOrEqual(30 * 60 + 1);
    // Another company is not affected.
    const other = await invited(a, 'member');
    expect(
      (
        await t
          .http()
          .post(`/v1/companies/${a.companyId}/invitations/${other.id}/resend`)
          .auth(a.admin.accessToken, { type: 'bearer' })
      ).status,
    ).toBe(200);
  });

  it('counts every invitation mail against the limit: create → revoke → create cannot get around it', async () => {
    const c = await createCompanySession(t, 'Invite Limits Cycle');
    const email = uniqueEmail('cycle');
    const revoke = (id: string) =>
      t
        .http()
        .delete(`/v1/companies/${c.companyId}/invitations/${id}`)
        .auth(c.admin.accessToken, { type: 'bearer' });
    const first = await invite(c, 'admin', { email, role: 'member' });
    expect(first.status).toBe(201);
    // 1 + 97 sent; two more creations fit in the hour, the third does not.
    await seedSends(c.companyId, first.body.id as string, 97);
    let last = first.body.id as string;
    for (let i = 0; i < 2; i++) {
      expect((await revoke(last)).status).toBe(204);
      const again = await invite(c, 'admin', { email, role: 'member' });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      last = again.body.id as string;
    }
    expect((await revoke(last)).status).toBe(204);
    const refused = await invite(c, 'admin', { email, role: 'member' });
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(25 * 60);
    // Nothing of the refused invitation exists, and no mail was queued for it.
    const counts = await t.owner.query<{ invitations: number; mails: number; created: number }>(
      `select (select count(*)::int from invitations where company_id = $1 and email = $2) as invitations,
              (select count(*)::int from mail_outbox where company_id = $1 and recipient = $2) as mails,
              (select count(*)::int from invitation_sends where company_id = $1 and kind = 'created') as created`,
      [c.companyId, email],
    );
    expect(counts.rows[0]).toEqual({ invitations: 3, mails: 3, created: 3 });
    // Re-sending is refused too: one budget for both.
    const pending = await invite(c, 'admin', { email: uniqueEmail('cycle-other'), role: 'member' });
    expectProblem(pending, 429, 'RATE_LIMITED');
  });

  it('refuses to resend an invitation while another one for the same email is pending (409)', async () => {
    const c = await createCompanySession(t, 'Invite Resend Pending');
    const email = uniqueEmail('twice');
    const resend = (id: string) =>
      t
        .http()
        .post(`/v1/companies/${c.companyId}/invitations/${id}/resend`)
        .auth(c.admin.accessToken, { type: 'bearer' });
    const pendingOf = async () =>
      (
        await t.owner.query<{ n: number }>(
          `select count(*)::int as n from invitations
            where company_id = $1 and email = $2 and accepted_at is null and revoked_at is null and expires_at > now()`,
          [c.companyId, email],
        )
      ).rows[0].n;
    const first = await invited(c, 'member', email);
    await t.owner.query("update invitations set expires_at = now() - interval '1 day' where id = $1", [
      first.id,
    ]);
    const second = await invited(c, 'member', email);

    const refused = await resend(first.id);
    expectProblem(refused, 409, 'CONFLICT');
    expect(refused.body.detail).toMatch(/Another pending invitation for this email/);
    expect(await pendingOf()).toBe(1);
    // The pending one itself may be re-sent; once it is revoked, the expired one may be revived.
    expect((await resend(second.id)).status).toBe(200);
    expect(
      (
        await t
          .http()
          .delete(`/v1/companies/${c.companyId}/invitations/${second.id}`)
          .auth(c.admin.accessToken, { type: 'bearer' })
      ).status,
    ).toBe(204);
    expect((await resend(first.id)).status).toBe(200);
    expect(await pendingOf()).toBe(1);

    // Two expired invitations for one email re-sent at once: the company's administration lock serialises
    // them, so exactly one is revived and the other is refused.
    const racer = uniqueEmail('race');
    const x = await invited(c, 'member', racer);
    await t.owner.query("update invitations set expires_at = now() - interval '1 day' where id = $1", [x.id]);
    const y = await invited(c, 'member', racer);
    await t.owner.query("update invitations set expires_at = now() - interval '1 day' where id = $1", [y.id]);
    const results = await Promise.all([resend(x.id), resend(y.id)]);
    expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).toEqual([
      200, 409,
    ]);
    const { rows } = await t.owner.query<{ n: number }>(
      `select count(*)::int as n from invitations
        where company_id = $1 and email = $2 and accepted_at is null and revoked_at is null and expires_at > now()`,
      [c.companyId, racer],
    );
    expect(rows[0].n).toBe(1);
  });

  it('lists invitations with their status, filtered and keyset-paginated', async () => {
    const c = await createCompanySession(t, 'Invite List');
    const pending = await invited(c, 'member');
    const accepted = await invited(c, 'manager');
    await accept({ token: accepted.token, name: 'Acc', password: TEST_PASSWORD });
    const revoked = await invited(c, 'member');
    await t
      .http()
      .delete(`/v1/companies/${c.companyId}/invitations/${revoked.id}`)
      .auth(c.admin.accessToken, { type: 'bearer' });
    const expired = await invited(c, 'member');
    await t.owner.query("update invitations set expires_at = now() - interval '1 minute' where id = $1", [
      expired.id,
    ]);

    const list = await t
      .http()
      .get(`/v1/companies/${c.companyId}/invitations`)
      .auth(c.admin.accessToken, { type: 'bearer' });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect((list.body.data as { id: string; status: string }[]).map((i) => [i.id, i.status])).toEqual([
      [expired.id, 'expired'],
      [revoked.id, 'revoked'],
      [accepted.id, 'accepted'],
      [pending.id, 'pending'],
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/inv_|token/i);
    for (const [status, id] of [
      ['pending', pending.id],
      ['accepted', accepted.id],
      ['revoked', revoked.id],
      ['expired', expired.id],
    ]) {
      const filtered = await t
        .http()
        .get(`/v1/companies/${c.companyId}/invitations?status=${status}`)
        .auth(c.owner.accessToken, { type: 'bearer' });
      expect((filtered.body.data as { id: string }[]).map((i) => i.id)).toEqual([id]);
    }
    expectProblem(
      await t
        .http()
        .get(`/v1/companies/${c.companyId}/invitations?status=lost`)
        .auth(c.owner.accessToken, { type: 'bearer' }),
      400,
      'VALIDATION_FAILED',
    );
    const first = await t
      .http()
      .get(`/v1/companies/${c.companyId}/invitations?limit=3`)
      .auth(c.admin.accessToken, { type: 'bearer' });
    expect(first.body.data).toHaveLength(3);
    const second = await t
      .http()
      .get(`/v1/companies/${c.companyId}/invitations?limit=3&cursor=${first.body.nextCursor}`)
      .auth(c.admin.accessToken, { type: 'bearer' });
    expect((second.body.data as { id: string }[]).map((i) => i.id)).toEqual([pending.id]);
    expect(second.body.nextCursor).toBeNull();

    // An accepted invitation cannot be revoked.
    expectProblem(
      await t
        .http()
        .delete(`/v1/companies/${c.companyId}/invitations/${accepted.id}`)
        .auth(c.admin.accessToken, { type: 'bearer' }),
      409,
      'CONFLICT',
    );
  });

  it('does not let an admin revoke or resend an owner invitation (404, like a missing one, audited)', async () => {
    const inv = await invited(a, 'owner');
    const missing = await t
      .http()
      .delete(`/v1/companies/${a.companyId}/invitations/01900000-0000-7000-8000-000000000000`)
      .auth(a.admin.accessToken, { type: 'bearer' });
    for (const req of [
      t.http().delete(`/v1/companies/${a.companyId}/invitations/${inv.id}`),
      t.http().post(`/v1/companies/${a.companyId}/invitations/${inv.id}/resend`),
    ]) {
      const res = await req.auth(a.admin.accessToken, { type: 'bearer' });
      expectProblem(res, 404, 'NOT_FOUND');
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    }
    for (const role of ['manager', 'member'] as const) {
      const res = await t
        .http()
        .delete(`/v1/companies/${a.companyId}/invitations/${inv.id}`)
        .auth(a.as(role).accessToken, { type: 'bearer' });
      expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    }
    const row = await t.owner.query('select revoked_at, resend_count from invitations where id = $1', [
      inv.id,
    ]);
    expect(row.rows).toEqual([{ revoked_at: null, resend_count: 0 }]);
    const denied = await t.owner.query(
      "select count(*)::int as n from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2",
      [a.companyId, inv.id],
    );
    expect(denied.rows[0].n).toBeGreaterThanOrEqual(4);
    // The owner can.
    expect(
      (
        await t
          .http()
          .delete(`/v1/companies/${a.companyId}/invitations/${inv.id}`)
          .auth(a.owner.accessToken, { type: 'bearer' })
      ).status,
    ).toBe(204);
  });

  it("answers 404 with no data for another company's invitation ids, on every route", async () => {
    const email = uniqueEmail('secret');
    const inv = await invited(a, 'member', email);
    const missing = await t
      .http()
      .delete(`/v1/companies/${b.companyId}/invitations/01900000-0000-7000-8000-000000000000`)
      .auth(b.admin.accessToken, { type: 'bearer' });
    const attempts = [
      t.http().get(`/v1/companies/${a.companyId}/invitations`),
      t
        .http()
        .post(`/v1/companies/${a.companyId}/invitations`)
        .send({ email: uniqueEmail(), role: 'member' }),
      t.http().delete(`/v1/companies/${a.companyId}/invitations/${inv.id}`),
      t.http().post(`/v1/companies/${a.companyId}/invitations/${inv.id}/resend`),
      t.http().delete(`/v1/companies/${b.companyId}/invitations/${inv.id}`),
      t.http().post(`/v1/companies/${b.companyId}/invitations/${inv.id}/resend`),
    ];
    for (const req of attempts) {
      const res = await req.auth(b.owner.accessToken, { type: 'bearer' });
      expectProblem(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain(email);
      expect(JSON.stringify(res.body)).not.toContain(a.companyId);
    }
    const sameShape = await t
      .http()
      .delete(`/v1/companies/${b.companyId}/invitations/${inv.id}`)
      .auth(b.admin.accessToken, { type: 'bearer' });
    expect(withoutRequestId(sameShape.body)).toEqual(withoutRequestId(missing.body));
    const list = await t
      .http()
      .get(`/v1/companies/${b.companyId}/invitations`)
      .auth(b.admin.accessToken, { type: 'bearer' });
    expect(JSON.stringify(list.body)).not.toContain(email);
    const row = await t.owner.query('select revoked_at, resend_count from invitations where id = $1', [
      inv.id,
    ]);
    expect(row.rows).toEqual([{ revoked_at: null, resend_count: 0 }]);
    // The token still works for its own invitee (nothing was consumed).
    expect((await accept({ token: inv.token, name: 'Still', password: TEST_PASSWORD })).status).toBe(201);
  });

  it('keeps a message whose delivery failed and retries it later', async () => {
    const failing = await startTestApp({ SMTP_URL: 'smtp://127.0.0.1:1', MAIL_OUTBOX_DIR: outbox });
    try {
      const email = uniqueEmail('retry');
      const res = await failing
        .http()
        .post(`/v1/companies/${a.companyId}/invitations`)
        .auth(a.admin.accessToken, { type: 'bearer' })
        .send({ email, role: 'member' });
      expect(res.status).toBe(201);
      const report = await drainMail(failing);
      expect(report.failed).toBeGreaterThanOrEqual(1);
      const { rows } = await t.owner.query<{
        id: string;
        attempts: number;
        sent_at: Date | null;
        last_error: string | null;
        text: string;
      }>('select id, attempts, sent_at, last_error, text from mail_outbox where recipient = $1', [email]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempts: 1, sent_at: null });
      expect(rows[0].last_error).toBeTruthy();
      expect(rows[0].text).toContain('/invitations/accept?token=inv_');
      expect(readOutbox(outbox).filter((m) => m.to === email)).toEqual([]);
      // pg-boss holds the retry: the message's job waits for its backoff, carrying the company.
      const job = async () =>
        (
          await t.owner.query<{ state: string; start_after: Date; data: Record<string, string> }>(
            "select state, start_after, data from pgboss.job where name = 'mail.send' and data->>'messageId' = $1",
            [rows[0].id],
          )
        ).rows;
      const [waiting] = await job();
      expect(waiting).toMatchObject({
        state: 'retry',
        data: { companyId: a.companyId, messageId: rows[0].id },
      });
      expect(waiting.start_after.getTime()).toBeGreaterThan(Date.now());

      // Not due yet: nothing happens. Once due, the next drain delivers it.
      await drainMail(t);
      expect(readOutbox(outbox).filter((m) => m.to === email)).toEqual([]);
      await t.owner.query(
        "update pgboss.job set start_after = now() - interval '1 second' where name = 'mail.send' and data->>'messageId' = $1",
        [rows[0].id],
      );
      await drainMail(t);
      const token = invitationLink(outbox, email).token;
      expect((await accept({ token, name: 'Retried', password: TEST_PASSWORD })).status).toBe(201);
      const after = await t.owner.query(
        'select attempts, sent_at, text from mail_outbox where recipient = $1',
        [email],
      );
      expect(after.rows[0]).toMatchObject({ attempts: 2, text: '' });
      expect(after.rows[0].sent_at).not.toBeNull();
    } finally {
      await failing.close();
    }
  });

  it('lets the token (its hash) reveal exactly its own invitation row, read-only, and nothing else', async () => {
    const mine = await invited(a, 'member');
    await invited(b, 'member');
    const client = await t.appRole.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('${SESSION.credential}', $1, true)`, [sha256(mine.token)]);
      const seen = await client.query<{ id: string }>('select id from invitations');
      expect(seen.rows.map((r) => r.id)).toEqual([mine.id]);
      // The side door is select-only: no write through it.
      const updated = await client.query("update invitations set role = 'owner' where id = $1", [mine.id]);
      expect(updated.rowCount).toBe(0);
      await client.query('rollback');
      await client.query('begin');
      await client.query(`select set_config('${SESSION.credential}', $1, true)`, [sha256('inv_guess')]);
      expect((await client.query('select id from invitations')).rows).toEqual([]);
      await client.query('rollback');
    } finally {
      client.release();
    }
  });

  it("keeps each company's mail under row-level security and delivers it job by job, in each job's company context", async () => {
    const mailA = uniqueEmail('drain-a');
    const mailB = uniqueEmail('drain-b');
    expect((await invite(a, 'admin', { email: mailA, role: 'member' })).status).toBe(201);
    expect((await invite(b, 'admin', { email: mailB, role: 'member' })).status).toBe(201);
    // One delivery job per message, each carrying its company (the handler opens that company's context).
    const jobs = await t.owner.query<{ company_id: string }>(
      `select j.data->>'companyId' as company_id from pgboss.job j
         join mail_outbox m on m.id::text = j.data->>'messageId'
        where j.name = 'mail.send' and m.recipient = any($1)`,
      [[mailA, mailB]],
    );
    expect(jobs.rows.map((r) => r.company_id).sort()).toEqual([a.companyId, b.companyId].sort());

    const client = await t.appRole.connect();
    try {
      // The app role sees no mail without a company, and only its own company's with one.
      expect((await client.query('select count(*)::int as n from mail_outbox')).rows[0].n).toBe(0);
      await client.query('begin');
      await client.query(`select set_config('${SESSION.company}', $1, true)`, [a.companyId]);
      const seen = await client.query<{ company_id: string; recipient: string }>(
        'select company_id, recipient from mail_outbox',
      );
      expect(seen.rows.length).toBeGreaterThan(0);
      expect(new Set(seen.rows.map((r) => r.company_id))).toEqual(new Set([a.companyId]));
      expect(seen.rows.map((r) => r.recipient)).not.toContain(mailB);
      await client.query('rollback');
    } finally {
      client.release();
    }

    const report = await drainMail(t);
    expect(report.sent).toBeGreaterThanOrEqual(2);
    expect(readOutbox(outbox).filter((m) => m.to === mailA || m.to === mailB)).toHaveLength(2);
  });

  it('sends nothing when the inviting transaction rolls back', async () => {
    const email = uniqueEmail('rolled-back');
    // A duplicate pending invitation fails inside the transaction, after nothing else: no second mail row.
    await invited(a, 'member', email);
    expectProblem(await invite(a, 'owner', { email, role: 'member' }), 409, 'CONFLICT');
    const rows = await t.owner.query('select count(*)::int as n from mail_outbox where recipient = $1', [
      email,
    ]);
    expect(rows.rows[0].n).toBe(1);
  });
});
