import type { ServerResponse } from 'node:http';
import { AppError } from './errors/app-error.js';

/**
 * The end of one HTTP request, however it ends: the response was sent, the client gave up (abort, timeout,
 * closed stream), or an error destroyed the connection. Node's `ServerResponse` emits `close` in every one of
 * these cases, once; this is the one place that listens for it, so that every per-request resource acquired
 * before the handler (a write slot today; any lock, counter or lease tomorrow) is given back exactly once.
 *
 * Deliberately not an async-local-storage lookup in a Fastify hook: `onRequestAbort` and socket events do not
 * run in the request's async context, and a resource acquired after the request already ended (it waited in a
 * queue while the client left) would never see a hook at all.
 */
export interface RequestLifetime {
  /** Aborted when the request ends: pass it to anything that waits on the request's behalf. */
  readonly signal: AbortSignal;
  /** Runs `release` once when the request ends, or at once when it already has. */
  hold(release: () => void): void;
}

const LIFETIME = Symbol('tenantry.requestLifetime');

/**
 * Why a request's signal aborts: one instance for every request, built once. Every request ends, most of them
 * normally, and an error built at each end captured a stack each time (a few per cent of a fast read's CPU, and
 * twice that for an MCP tool call, whose route runs as a request of its own: docs/benchmarks.md).
 */
// 499 (as in proxies' logs): the client closed the request; nobody reads the answer, the access log does.
const ENDED = new AppError(499, 'INTERNAL', 'The client closed the request');
type Tracked = ServerResponse & { [LIFETIME]?: RequestLifetime };

function ended(res: ServerResponse): boolean {
  return res.destroyed || res.writableFinished || res.socket?.destroyed === true;
}

/**
 * The lifetime of the request `res` answers (one per response, created on first use; `app.ts` creates it when the
 * request arrives).
 */
export function requestLifetime(res: ServerResponse): RequestLifetime {
  const tracked = res as Tracked;
  const existing = tracked[LIFETIME];
  if (existing) return existing;
  const controller = new AbortController();
  const pending = new Set<() => void>();
  const socket = res.socket;
  const end = () => {
    if (controller.signal.aborted) return;
    res.off('close', end);
    socket?.off('close', end);
    controller.abort(ENDED);
    for (const release of pending) runOnce(release);
    pending.clear();
  };
  const lifetime: RequestLifetime = {
    signal: controller.signal,
    hold(release) {
      if (controller.signal.aborted) runOnce(release);
      else pending.add(release);
    },
  };
  tracked[LIFETIME] = lifetime;
  if (ended(res)) end();
  else {
    res.once('close', end);
    socket?.once('close', end);
  }
  return lifetime;
}

function runOnce(release: () => void): void {
  try {
    release();
  } catch {
    // A release never throws by contract; one that does must not keep the others from running.
  }
}
