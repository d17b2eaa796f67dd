import { createHash } from 'node:crypto';
import { APP_DB_ROLE } from './orm.config.js';

/** PostgreSQL truncates identifiers to 63 bytes. */
const MAX_IDENTIFIER = 63;

/**
 * The login role the application uses on one database: `tenantry_app_<database>`. One per database, so two
 * databases on one server (two checkouts, a test run next to a development instance) never change each other's
 * password. It holds no privilege of its own: it is a member of `tenantry_app`, the group role the migrations
 * grant. A name too long for PostgreSQL keeps a prefix of the database name and a hash of the whole.
 */
export function appRoleForDatabase(database: string): string {
  const name = `${APP_DB_ROLE}_${database}`;
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  return `${APP_DB_ROLE}_${Buffer.from(database)
    .subarray(0, 40)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}_${hash}`;
}

/** The database an owner URL names (PostgreSQL's default, the user name, when it names none). */
export function databaseOf(url: string): string {
  const u = new URL(url);
  return decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
}

/** The application's role: the user of DATABASE_APP_URL when given, else the per-database role. */
export function appRoleFor(ownerUrl: string, appUrl?: string): string {
  if (appUrl) return decodeURIComponent(new URL(appUrl).username) || APP_DB_ROLE;
  return appRoleForDatabase(databaseOf(ownerUrl));
}

/**
 * The application's runtime URL: DATABASE_APP_URL when given, else the owner URL with the user replaced by
 * the database's application role (`appRoleFor`) and its password, so the app never runs as the owner.
 */
export function deriveAppUrl(ownerUrl: string, appUrl: string | undefined, appPassword: string): string {
  if (appUrl) return appUrl;
  const url = new URL(ownerUrl);
  url.username = encodeURIComponent(appRoleFor(ownerUrl));
  url.password = appPassword ? encodeURIComponent(appPassword) : '';
  return url.toString();
}

/** A URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/** The same server URL pointing at another database (`postgres` for administration, a scratch one, …). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
