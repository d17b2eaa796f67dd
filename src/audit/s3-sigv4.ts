import { createHash, createHmac } from 'node:crypto';

/*
 * AWS Signature Version 4 for the few S3 requests the audit export makes (PUT Object), with node:crypto only:
 * the whole AWS SDK is a large dependency for one signed PUT, and every S3-compatible store (MinIO, Ceph,
 * R2, …) accepts this header form. Checked against AWS's published examples in s3-sigv4.spec.ts.
 */

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** `s3` for S3. */
  service: string;
}

export interface SigV4Request {
  method: string;
  /** Absolute URL; its path must already be URI-encoded the way S3 expects (see `encodeS3Key`). */
  url: URL;
  /** Headers to sign besides `host` (which comes from the URL); names are case-insensitive. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (`UNSIGNED-PAYLOAD` is allowed by S3 but not used here). */
  payloadHash: string;
  date: Date;
}

export const sha256Hex = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('hex');

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 defines it: unreserved characters stay, everything else is %XX (upper case). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** An object key as a URL path: each segment encoded, the slashes kept. */
export function encodeS3Key(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/** `20130524T000000Z` and `20130524`. */
export function amzDates(date: Date): { amzDate: string; day: string } {
  const amzDate = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { amzDate, day: amzDate.slice(0, 8) };
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The canonical request and the signed-header list of step 1 of SigV4. */
export function canonicalRequest(request: SigV4Request): { canonical: string; signedHeaders: string } {
  const headers = new Map<string, string>([['host', request.url.host]]);
  for (const [name, value] of Object.entries(request.headers)) {
    headers.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  }
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const canonical = [
    request.method.toUpperCase(),
    request.url.pathname || '/',
    canonicalQuery(request.url),
    names.map((n) => `${n}:${headers.get(n)}\n`).join(''),
    signedHeaders,
    request.payloadHash,
  ].join('\n');
  return { canonical, signedHeaders };
}

/** The `Authorization` header value of a request signed with `credentials`. */
export function signV4(request: SigV4Request, credentials: SigV4Credentials): string {
  const { amzDate, day } = amzDates(request.date);
  const scope = `${day}/${credentials.region}/${credentials.service}/aws4_request`;
  const { canonical, signedHeaders } = canonicalRequest(request);
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const kDate = hmac(`AWS4${credentials.secretAccessKey}`, day);
  const kRegion = hmac(kDate, credentials.region);
  const kService = hmac(kRegion, credentials.service);
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
}
