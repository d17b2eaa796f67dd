import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { expectProblem } from './harness/problem.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/** One raw HTTP/1.1 exchange (for requests no client library sends), returning status, headers and body. */
function raw(origin: string, text: string): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0),
        headers: head,
        body: rest.join('\r\n\r\n'),
      });
    });
  });
}

describe('errors raised by Fastify itself', () => {
  let t: TestApp;
  let origin: string;
  let a: CompanySession;

  beforeAll(async () => {
    t = await startTestApp();
    origin = await t.listen();
    a = await createCompanySession(t, 'Fastify errors');
  });
  afterAll(async () => {
    await t.close();
  });

  const expectRawProblem = (res: { status: number; headers: string; body: string }, status: number) => {
    expect(res.status, res.headers + res.body).toBe(status);
    expect(res.headers).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status, code: 'VALIDATION_FAILED', type: expect.stringMatching(/^https:/) });
    expect(typeof body.detail).toBe('string');
    expect(new RegExp(`\\r\\nx-request-id: ${body.requestId}\\r\\n`, 'i').test(res.headers + '\r\n')).toBe(
      true,
    );
    return body as Record<string, unknown>;
  };

  it("answers a path parameter over the router limit with a 414 problem, not Fastify's own body", async () => {
    for (const path of [`/v1/runs/${'a'.repeat(300)}`, `/v1/companies/${'b'.repeat(250)}/members`]) {
      const res = await t.http().get(path).auth(a.member.accessToken, { type: 'bearer' });
      expectProblem(res, 414, 'VALIDATION_FAILED');
      expect(res.body.detail).toBe('A path parameter is longer than allowed');
      expect(JSON.stringify(res.body)).not.toContain('aaaaaaaaaa');
      expect(res.body.code).not.toMatch(/^FST_/);
    }
  });

  it('answers a malformed URL with a 400 problem', async () => {
    const res = await raw(origin, `GET /v1/runs/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const body = expectRawProblem(res, 400);
    expect(body.detail).toMatch(/URL/);
  });

  it("answers what Node's HTTP parser refuses (bad Content-Length, CL beside TE, huge headers) with problems", async () => {
    const post = (headers: string, body = '{}') =>
      raw(
        origin,
        `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}Connection: close\r\n\r\n${body}`,
      );
    expect(expectRawProblem(await post('Content-Length: abc\r\n'), 400).detail).toBe(
      'Invalid Content-Length',
    );
    expect(expectRawProblem(await post('Content-Length: 2\r\nContent-Length: 3\r\n'), 400).detail).toBe(
      'Invalid Content-Length',
    );
    expectRawProblem(await post('Transfer-Encoding: chunked\r\nContent-Length: 2\r\n'), 400);
    const big = await raw(
      origin,
      `GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    );
    expectRawProblem(big, 431);
    const longUrl = await raw(
      origin,
      `GET /v1/runs/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expectRawProblem(longUrl, 431);
    // The server is still fine.
    expect((await t.http().get('/health/live')).status).toBe(200);
  });
});
