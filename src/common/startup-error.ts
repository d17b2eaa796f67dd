/**
 * A start-up failure that already knows its cause and its fix: printed as one line, never as a stack trace.
 */
export class StartupError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem} Fix: ${fix}`);
    this.name = 'StartupError';
  }
}

/** Network errors of the PostgreSQL driver, by errno code, with what to check. */
const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS unavailable)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ECONNRESET: 'the server closed the connection',
};

/** PostgreSQL SQLSTATEs seen while connecting, with the fix. */
const SQLSTATE_FIXES: Record<string, string> = {
  '28P01':
    'check the password in DATABASE_URL / DATABASE_APP_URL / DATABASE_APP_PASSWORD (npm run migrate sets the application role password)',
  '28000': 'the server refuses this user or host: check pg_hba.conf and the user in DATABASE_URL',
  '3D000': 'create the database first (createdb <name>) or fix its name in DATABASE_URL',
  '57P03': 'the server is starting up or shutting down: try again in a few seconds',
  '53300': 'the server has too many connections: lower DATABASE_POOL_MAX or raise max_connections',
  '42501': 'the user lacks a privilege: run npm run migrate as the owner of the database (DATABASE_URL)',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * One line for any value a start-up step may throw or reject with: its cause and, where it is known, the fix.
 * Never prints `undefined`: a rejection without a reason says so and where to look.
 */
export function describeStartupError(e: unknown): string {
  if (e instanceof StartupError) return e.message;
  const reasonless = (what: string) =>
    `A start-up step failed without giving a reason (${what}). Fix: start again with LOG_LEVEL=debug to see ` +
    'the step and its stack, or set DATABASE_URL to use your own PostgreSQL instead of the embedded one.';
  if (e === undefined || e === null) return reasonless(String(e));
  if (typeof e === 'string') return text(e) ?? reasonless('an empty string');
  if (typeof e !== 'object') return reasonless(typeof e);
  const err = e as { message?: unknown; code?: unknown; address?: unknown; port?: unknown; cause?: unknown };
  const message = text(err.message);
  if (message === undefined) return reasonless(`an empty ${e.constructor.name}`);
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code && NETWORK_CAUSES[code]) {
    const where =
      typeof err.address === 'string'
        ? ` (${err.address}${typeof err.port === 'number' ? `:${err.port}` : ''})`
        : '';
    return (
      `Cannot reach PostgreSQL${where}: ${NETWORK_CAUSES[code]} (${code}). ` +
      'Fix: start the server or correct DATABASE_URL; unset DATABASE_URL to use the embedded PostgreSQL.'
    );
  }
  if (code && SQLSTATE_FIXES[code]) return `${message} (SQLSTATE ${code}). Fix: ${SQLSTATE_FIXES[code]}.`;
  if (code === 'EACCES' || code === 'EPERM') {
    return `${message}. Fix: make the path readable by the user running Tenantry, or set DATA_DIR elsewhere.`;
  }
  if (code === 'EADDRINUSE') {
    return `${message}. Fix: stop what uses that port or choose another with PORT (and HOST).`;
  }
  const cause = err.cause === undefined ? '' : ` (cause: ${describeStartupError(err.cause)})`;
  return `${message}${cause}`;
}
