import { APP_DB_ROLE } from './orm.config.js';

/**
 * The application's runtime URL: DATABASE_APP_URL when given, else the owner URL with the user replaced by
 * `tenantry_app` (and its password), so the app never runs as the owner of the tables.
 */
export function deriveAppUrl(ownerUrl: string, appUrl: string | undefined, appPassword: string): string {
  if (appUrl) return appUrl;
  const url = new URL(ownerUrl);
  url.username = APP_DB_ROLE;
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
