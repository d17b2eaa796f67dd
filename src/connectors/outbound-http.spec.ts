import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AddressPolicy, type ResolvedAddress } from './address-policy.js';
import { ToolCallError } from './connector-invoker.js';
import { OutboundHttp, type Resolver } from './outbound-http.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('outbound HTTP', () => {
  let server: Server;
  let port: number;
  const seen: Seen[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        handler(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });

  const stub =
    (answers: Record<string, ResolvedAddress[]>): Resolver =>
    async (hostname) => {
      const found = answers[hostname];
      if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return found;
    };
  const loopback = [{ address: '127.0.0.1', family: 4 as const }];
  const allowLoopbackIp = new AddressPolicy({ allowedHosts: ['127.0.0.1'], requireHttps: false });
  const strict = new AddressPolicy({ allowedHosts: [], requireHttps: false });
  const failure = async (p: Promise<unknown>): Promise<ToolCallError> => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(ToolCallError);
      return e as ToolCallError;
    }
    throw new Error('expected a ToolCallError');
  };
  const post = (client: OutboundHttp, url: string, timeoutMs = 5000) =>
    client.post({ url, headers: { 'idempotency-key': 'k-1' }, body: '{"a":1}', timeoutMs });

  it('connects to the address it vetted, keeping the host name in the Host header (no second lookup)', async () => {
    // `pinned.test` resolves only through the stub: had the client looked it up again, the call would fail.
    const client = new OutboundHttp(allowLoopbackIp, stub({ 'pinned.test': loopback }));
    const res = await post(client, `http://pinned.test:${port}/hook?x=1`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"ok":true}');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', body: '{"a":1}' });
    expect(seen[0].headers).toMatchObject({
      host: `pinned.test:${port}`,
      'content-type': 'application/json',
      'idempotency-key': 'k-1',
      'accept-encoding': 'identity',
    });
  });

  it('refuses a name that resolves to a non-public address, and a mixed (rebinding) answer', async () => {
    const client = new OutboundHttp(
      strict,
      stub({
        'evil.test': loopback,
        'mixed.test': [{ address: '93.184.216.34', family: 4 }, ...loopback],
        'meta.test': [{ address: '169.254.169.254', family: 4 }],
      }),
    );
    for (const host of ['evil.test', 'mixed.test', 'meta.test']) {
      const e = await failure(post(client, `http://${host}:${port}/`));
      expect(e.reason, host).toBe('refused');
      expect(e.retryable).toBe(false);
    }
    expect((await failure(post(client, `http://127.0.0.1:${port}/`))).reason).toBe('refused');
    expect(seen).toHaveLength(0);
  });

  it('does not follow redirects', async () => {
    handler = (_req, res) =>
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    const client = new OutboundHttp(allowLoopbackIp, stub({}));
    const res = await post(client, `http://127.0.0.1:${port}/`);
    expect(res.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('gives up at the deadline (retryable)', async () => {
    handler = () => undefined; // never answers
    const client = new OutboundHttp(allowLoopbackIp, stub({}));
    const e = await failure(post(client, `http://127.0.0.1:${port}/`, 150));
    expect(e.reason).toBe('timeout');
    expect(e.retryable).toBe(true);
  });

  it('counts DNS resolution against the deadline', async () => {
    const client = new OutboundHttp(allowLoopbackIp, () => new Promise(() => undefined));
    const e = await failure(post(client, `http://slow-dns.test:${port}/`, 100));
    expect(e.reason).toBe('timeout');
  });

  it('caps the response size, declared or streamed', async () => {
    const client = new OutboundHttp(allowLoopbackIp, stub({}), 1024);
    handler = (_req, res) => res.writeHead(200, { 'content-length': '4096' }).end('x'.repeat(4096));
    expect((await failure(post(client, `http://127.0.0.1:${port}/`))).reason).toBe('response_too_large');
    handler = (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
      res.end();
    };
    const e = await failure(post(client, `http://127.0.0.1:${port}/`));
    expect(e.reason).toBe('response_too_large');
    expect(e.retryable).toBe(false);
  });

  it('reports unreachable endpoints and unknown names as retryable network errors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = new OutboundHttp(allowLoopbackIp, stub({}));
    const refused = await failure(post(client, `http://127.0.0.1:${closedPort}/`));
    expect(refused).toMatchObject({ reason: 'network', retryable: true });
    const unknown = await failure(post(client, 'http://no-such-host.test/'));
    expect(unknown).toMatchObject({ reason: 'network', retryable: true });
  });

  it('ends the request itself when its signal is aborted (the server sees the connection close)', async () => {
    let closed: Promise<void> | undefined;
    handler = (req) => {
      // Never answers; resolves once the client went away.
      closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
    };
    const controller = new AbortController();
    const http = new OutboundHttp(allowLoopbackIp);
    const pending = failure(
      http.post({
        url: `http://127.0.0.1:${port}/hangs`,
        headers: {},
        body: '{}',
        timeoutMs: 30_000,
        signal: controller.signal,
      }),
    );
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect((await pending).message).toMatch(/abandoned/);
    await closed;
  });
});
