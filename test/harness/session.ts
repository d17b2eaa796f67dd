import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { expect } from 'vitest';
import type { Role } from '../../src/authz/roles.js';
import { newId } from '../../src/common/ids.js';
import type { TestApp } from './app.js';

export const TEST_PASSWORD = 'correct horse battery staple';

let passwordHash: Promise<string> | undefined;
/** One argon2id hash of TEST_PASSWORD per process: fixtures skip the hashing cost, login still verifies it. */
function testPasswordHash(): Promise<string> {
  passwordHash ??= hash(TEST_PASSWORD, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  return passwordHash;
}

export interface Actor {
  userId: string;
  email: string;
  role: Role;
  accessToken: string;
  refreshToken: string;
}

export interface CompanySession {
  companyId: string;
  slug: string;
  name: string;
  owner: Actor;
  admin: Actor;
  manager: Actor;
  member: Actor;
  /** Actors by role. */
  as(role: Role): Actor;
}

export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomBytes(5).toString('hex')}@example.test`;
}

export async function login(
  t: TestApp,
  email: string,
  companySlug?: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await t
    .http()
    .post('/v1/auth/login')
    .send({ email, password: TEST_PASSWORD, ...(companySlug ? { companySlug } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { accessToken: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
}

/** Registers a company over HTTP (its owner) and signs the owner in. */
export async function registerCompany(t: TestApp, name = `Company ${randomBytes(3).toString('hex')}`) {
  const email = uniqueEmail('owner');
  const res = await t
    .http()
    .post('/v1/auth/register')
    .send({ email, password: TEST_PASSWORD, name: 'Owner', companyName: name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return {
    companyId: res.body.company.id as string,
    slug: res.body.company.slug as string,
    name,
    owner: {
      userId: res.body.user.id as string,
      email,
      role: 'owner' as Role,
      accessToken: res.body.accessToken as string,
      refreshToken: res.body.refreshToken as string,
    },
  };
}

/** Adds an existing or new user to a company with a role (fixture, as the database owner). */
export async function addMember(
  t: TestApp,
  companyId: string,
  role: Role,
  email = uniqueEmail(role),
): Promise<{ userId: string; email: string }> {
  const existing = await t.owner.query<{ id: string }>('select id from users where email = $1', [email]);
  let userId = existing.rows[0]?.id;
  if (!userId) {
    userId = newId();
    await t.owner.query(
      'insert into users (id, email, name, password_hash, platform_admin) values ($1, $2, $3, $4, false)',
      [userId, email, `${role} user`, await testPasswordHash()],
    );
  }
  await t.owner.query('insert into memberships (id, company_id, user_id, role) values ($1, $2, $3, $4)', [
    newId(),
    companyId,
    userId,
    role,
  ]);
  return { userId, email };
}

/**
 * A company with one member of each role and their tokens: the starting point of every e2e suite.
 * The owner registers over HTTP; the others are fixtures that then sign in over HTTP.
 */
export async function createCompanySession(t: TestApp, name?: string): Promise<CompanySession> {
  const company = await registerCompany(t, name);
  const actors: Partial<Record<Role, Actor>> = { owner: company.owner };
  await Promise.all(
    (['admin', 'manager', 'member'] as const).map(async (role) => {
      const { userId, email } = await addMember(t, company.companyId, role);
      const tokens = await login(t, email, company.slug);
      actors[role] = { userId, email, role, ...tokens };
    }),
  );
  const all = actors as Record<Role, Actor>;
  return {
    ...company,
    admin: all.admin,
    manager: all.manager,
    member: all.member,
    as: (role: Role) => all[role],
  };
}

/** Makes a user a platform operator (what `npm run cli -- platform-admin grant` does). */
export async function grantPlatformAdmin(t: TestApp, userId: string): Promise<void> {
  await t.owner.query('update users set platform_admin = true where id = $1', [userId]);
}

/** The access token of an application's client credentials (`POST /v1/oauth/token`, client_credentials grant). */
export async function applicationToken(
  t: TestApp,
  credentials: { clientId: string; clientSecret: string },
): Promise<string> {
  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
  const token = await t
    .http()
    .post('/v1/oauth/token')
    .type('form')
    .set('Authorization', `Basic ${basic}`)
    .send('grant_type=client_credentials');
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body.access_token as string;
}
