import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantContext } from '../tenancy/request-store.js';
import type { AbilityRule } from './authorize.decorator.js';

/**
 * A transport's call of a route in process: an MCP tool running the HTTP route it mirrors, inside the transport's
 * own request (`mcp-route-runner.ts`; through `fastify.inject` when it cannot). The handle lives only in this
 * process's async context (the route's handler runs inside `runTransportCall`), never in a header or anything else
 * a client sends, so no request from outside can carry one; the guard takes it once (`takeTransportCall`), so a
 * request the route itself might start does not inherit it. Through it the guard counts the call once and checks
 * the transport's own rule before the route's:
 *
 * - `verified` absent (a plain tool call answered before the transport's Nest route, `mcp-fast-path.ts`): the
 *   route's request is the only one to authenticate and count; the guard checks `rule` (the transport's, `use
 *   Mcp`) after counting, and a refusal up to there is the transport's answer (401, 403, 429 as `/mcp` itself
 *   gives them: `admitted` stays false);
 * - `verified` set (a tool call inside a message the transport's route already authenticated and counted): the
 *   guard takes that context as the request's and counts nothing.
 *
 * Either way a refusal by the route's own rule is not audited as a denial: the tool is not offered to this
 * credential (`notOffered`), which MCP answers as an unknown tool, as `tools/list` would not have listed it.
 */
export interface TransportCall {
  /** The transport route's own rule. */
  readonly rule: AbilityRule;
  /** The context the transport's own request verified (and counted), when it did. */
  readonly verified?: TenantContext;
  /** Set by the guard: the request's context, once its credential is verified. */
  tenant?: TenantContext;
  /** Set by the guard once the transport's checks passed: what the route answers is the tool's result. */
  admitted?: true;
  /** Set by the guard: the route's rule refuses this context (the tool is not offered to it). */
  notOffered?: true;
  /** Set by the guard when it takes the handle: the route's request reached authentication. */
  taken?: true;
}

const calls = new AsyncLocalStorage<TransportCall>();

/** Runs `fn` (the in-process call of one route) as `call`. */
export function runTransportCall<T>(call: TransportCall, fn: () => T): T {
  return calls.run(call, fn);
}

/** The transport call the current request runs as, once: later requests in the same async context get none. */
export function takeTransportCall(): TransportCall | undefined {
  const call = calls.getStore();
  if (!call || call.taken) return undefined;
  call.taken = true;
  return call;
}
