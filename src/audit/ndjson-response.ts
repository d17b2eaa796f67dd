import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** Resolves when `stream` can take more data, or when it closed (the client went away). */
function drainedOrClosed(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Streams `batches` as NDJSON (one JSON value per line) through Fastify, so the response keeps its hooks and
 * headers (request id, rate limit). The batches are pulled here, in the handler's own async chain (each one a
 * query on the caller's tenant-scoped EntityManager), never from a stream callback, and only as fast as the
 * client reads: memory stays bounded by one batch plus the socket buffer.
 *
 * Once the status line is sent an error can no longer become a problem+json: the response is then aborted
 * (the client sees a truncated transfer, never a short file that looks complete) and `onError` logs it.
 */
export async function sendNdjson(
  reply: FastifyReply,
  batches: AsyncIterable<unknown[]>,
  options: { filename?: string; onError: (error: unknown) => void },
): Promise<void> {
  const body = new PassThrough();
  void reply.header('content-type', 'application/x-ndjson; charset=utf-8');
  void reply.header('cache-control', 'no-store');
  if (options.filename) {
    void reply.header('content-disposition', `attachment; filename="${options.filename}"`);
  }
  void reply.send(body);
  try {
    for await (const batch of batches) {
      if (body.destroyed) return;
      const chunk = batch.map((value) => `${JSON.stringify(value)}\n`).join('');
      if (!body.write(chunk)) await drainedOrClosed(body);
    }
    body.end();
  } catch (error) {
    options.onError(error);
    body.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
