import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** Request body still read (and discarded) after a 413, so that the client gets to read the answer. */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
/** How long a 413 waits for the client to finish sending. */
export const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Reads and discards the rest of `req`'s body, up to `limit` bytes or `timeoutMs`; resolves when the client
 * has finished sending (true) or a bound was reached (false; the connection then closes after the answer).
 */
export function drainRequest(req: IncomingMessage, limit: number, timeoutMs: number): Promise<boolean> {
  if (req.complete || req.destroyed) return Promise.resolve(req.complete);
  return new Promise((resolve) => {
    let read = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (!drained) req.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > limit) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), timeoutMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}

/**
 * A body refused as too large (413) stops being read mid-stream; answering then and closing makes a client that
 * is still sending (Node's `fetch`, any streaming client) fail with EPIPE/ECONNRESET instead of reading the 413.
 * So a 413 first drains the rest of the body (bounded by `DRAIN_LIMIT_BYTES` and `DRAIN_TIMEOUT_MS`), then answers
 * and closes the connection.
 */
export function drainRefusedBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 413 || request.raw.complete) return payload;
    void reply.header('connection', 'close');
    await drainRequest(request.raw, DRAIN_LIMIT_BYTES, DRAIN_TIMEOUT_MS);
    return payload;
  });
}
