import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/jwt-claims.js';
import type { Role } from '../../src/authz/roles.js';
import { TEST_ENV } from '../../test/setup/test-env.js';

/** The data set's database (owner URL): `npm run bench:seed` fills it, `npm run bench` reads it. */
export const BENCH_DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tenantry_bench';

/**
 * `tenantry_app` is a role of the whole PostgreSQL server and migrating sets its password: use the one the test
 * suite uses (or DATABASE_APP_PASSWORD), so that a benchmark never locks out test runs on the same server.
 */
export const BENCH_APP_PASSWORD = process.env.DATABASE_APP_PASSWORD ?? TEST_ENV.DATABASE_APP_PASSWORD;

/** The password of every seeded user (`bench-<n>-<role>@bench.tenantry.test`). */
export const BENCH_PASSWORD = 'bench-password-not-secret';

/** The tool ids each seeded company binds (realistic ones, used by catalog templates). */
export const CONNECTOR_TOOLS = [
  'crm.account.lookup',
  'payments.charge.lookup',
  'hr.employee.lookup',
  'itsm.ticket.create',
  'mail.send',
];

export const say = (line: string): void => void process.stdout.write(`${line}\n`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An access token exactly as Tenantry issues one at login (API.md claims, HS256, issuer and audience), signed
 * with the benchmark's JWT secret, so both servers verify the same tokens without a login per company.
 */
export function accessToken(
  secret: string,
  claims: { userId: string; companyId: string; role: Role },
): Promise<string> {
  return new SignJWT({
    company_id: claims.companyId,
    role: claims.role,
    token_type: 'access',
    principal_type: 'user',
    sid: randomUUID(),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}
