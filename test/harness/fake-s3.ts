import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalRequest, sha256Hex, signV4 } from '../../src/audit/s3-sigv4.js';

export interface FakeS3 {
  url: string;
  /** Objects by path (`/bucket/key`). */
  objects: Map<string, string>;
  /** Every request, with the problem found in it (null when it was accepted). */
  requests: { method: string; path: string; problem: string | null }[];
  /** Answers the next `n` requests with 503 (to exercise retries). */
  failNext(n: number): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A tiny S3 stand-in for tests: accepts path-style PUT Object only when it carries an AWS4-HMAC-SHA256
 * Authorization header whose signature it recomputes from the request as received (method, path, the signed
 * headers' values, the body's SHA-256) with the secret it was given.
 */
export async function startFakeS3(credentials: {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}): Promise<FakeS3> {
  const objects = new Map<string, string>();
  const requests: FakeS3['requests'] = [];
  let failures = 0;

  const check = (req: IncomingMessage, body: string): string | null => {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return `no AWS4-HMAC-SHA256 authorization: ${auth}`;
    const [, keyId, day, region, signedHeaders, signature] = m;
    if (keyId !== credentials.accessKeyId) return 'unknown access key';
    if (region !== credentials.region) return `wrong region ${region}`;
    const payloadHash = req.headers['x-amz-content-sha256'];
    if (payloadHash !== sha256Hex(body)) return 'x-amz-content-sha256 does not match the body';
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!amzDate.startsWith(day)) return 'x-amz-date does not match the credential scope';
    const names = signedHeaders.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
    const headers = Object.fromEntries(
      names.filter((n) => n !== 'host').map((n) => [n, String(req.headers[n] ?? '')]),
    );
    const url = new URL(`http://${req.headers.host}${req.url}`);
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const request = { method: req.method ?? '', url, headers, payloadHash, date };
    if (canonicalRequest(request).signedHeaders !== signedHeaders) return 'signed header list differs';
    const expected = signV4(request, { ...credentials, service: 's3' });
    return expected.endsWith(`Signature=${signature}`) ? null : 'signature does not match';
  };

  const server: Server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (failures > 0) {
        failures -= 1;
        requests.push({ method: req.method ?? '', path, problem: 'injected 503' });
        res.writeHead(503).end('<Error><Code>SlowDown</Code></Error>');
        return;
      }
      const problem = req.method === 'PUT' ? check(req, body) : 'only PUT is supported';
      requests.push({ method: req.method ?? '', path, problem });
      if (problem) {
        res
          .writeHead(403)
          .end(`<Error><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error>`);
        return;
      }
      objects.set(path, body);
      res.writeHead(200, { etag: `"${sha256Hex(body).slice(0, 32)}"` }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
