import { randomBytes } from 'node:crypto';

/**
 * A transport (MCP) runs each tool call as the HTTP route it mirrors, in process (`fastify.inject`), with the
 * caller's own credential. The transport's request was already counted against the rate limits, so the inner
 * request carries this header with a secret that lives only in this process: the guard does not count it twice.
 * A client cannot forge it (the value is random per process and never sent out).
 */
export const INTERNAL_CALL_HEADER = 'x-tenantry-internal-call';
export const INTERNAL_CALL_SECRET = randomBytes(24).toString('base64url');

export function isInternalCall(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[INTERNAL_CALL_HEADER] === INTERNAL_CALL_SECRET;
}
