import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type EndpointHandler = (req: ReceivedRequest, res: ServerResponse) => void;

/**
 * A real HTTP server on 127.0.0.1 standing in for a connector endpoint: it records every request and answers
 * through a handler the test sets per path (default: 200 with `{"ok": true, "path": …}`).
 */
export interface TestEndpoint {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path?: string): string;
  received: ReceivedRequest[];
  /** Requests received on one path. */
  on(path: string): ReceivedRequest[];
  handle(path: string, handler: EndpointHandler): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function startTestEndpoint(host = '127.0.0.1'): Promise<TestEndpoint> {
  const handlers = new Map<string, EndpointHandler>();
  const received: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const handler = handlers.get(path);
      if (handler) handler(request, res);
      else json(res, 200, { ok: true, path });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path = '/') => `http://${host}:${port}${path}`,
    received,
    on: (path) => received.filter((r) => r.path.split('?')[0] === path),
    handle: (path, handler) => handlers.set(path, handler),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export { json as sendJson };
