import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pRetry, { AbortError } from 'p-retry';
import type { AuditRecord } from './audit-record.js';
import { amzDates, encodeS3Key, sha256Hex, signV4, uriEncode } from './s3-sigv4.js';

/** Where the export job writes one object per event. Writing the same key again replaces it (idempotent). */
export interface ExportTarget {
  /** For logs: never carries a secret. */
  readonly description: string;
  put(key: string, body: string): Promise<void>;
}

/** `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json`, by the UTC day the event occurred: one event, one key. */
export function exportKey(record: Pick<AuditRecord, 'companyId' | 'occurredAt' | 'id'>): string {
  const day = new Date(record.occurredAt).toISOString();
  return `audit/${record.companyId}/${day.slice(0, 4)}/${day.slice(5, 7)}/${day.slice(8, 10)}/${record.id}.json`;
}

/** The file body of one event: its record as pretty JSON (the same bytes on every run). */
export function exportBody(record: AuditRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** A local directory. Each file is written beside its final name and renamed, so a reader never sees half. */
export class FileExportTarget implements ExportTarget {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `file://${root}`;
  }

  async put(key: string, body: string): Promise<void> {
    const path = resolve(this.root, key);
    const inside = relative(this.root, path);
    if (inside.startsWith('..') || isAbsolute(inside))
      throw new Error(`export key escapes the target: ${key}`);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, body, { mode: 0o600 });
    await rename(temporary, path);
  }
}

export interface S3Location {
  endpoint: string;
  bucket: string;
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * An S3-compatible bucket, path-style (`{endpoint}/{bucket}/{key}`), PUT Object signed with SigV4.
 * Transient failures (network, 5xx, 429) are retried a few times; anything else fails the export.
 */
export class S3ExportTarget implements ExportTarget {
  readonly description: string;

  constructor(
    private readonly location: S3Location,
    private readonly options: { timeoutMs?: number; attempts?: number; now?: () => Date } = {},
  ) {
    this.description = `s3 ${location.endpoint}/${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`;
  }

  async put(key: string, body: string): Promise<void> {
    const { endpoint, bucket, prefix } = this.location;
    const objectKey = prefix ? `${prefix}/${key}` : key;
    const url = new URL(`${endpoint}/${uriEncode(bucket)}/${encodeS3Key(objectKey)}`);
    const attempts = this.options.attempts ?? 3;
    // Waits 200 ms, then 400 ms, … between attempts; a refusal that retrying cannot change ends at once.
    await pRetry(
      async () => {
        let response: Response;
        try {
          response = await this.send(url, body);
        } catch (error) {
          throw new Error(
            `PUT ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
        const detail = (await response.text()).slice(0, 300);
        if (response.ok) return;
        const failure = `PUT ${url.pathname} answered ${response.status}: ${detail}`;
        const retryable = response.status >= 500 || response.status === 429;
        throw retryable ? new Error(failure) : new AbortError(failure);
      },
      { retries: attempts - 1, minTimeout: 200, factor: 2, randomize: false },
    );
  }

  private send(url: URL, body: string): Promise<Response> {
    const date = (this.options.now ?? (() => new Date()))();
    const payloadHash = sha256Hex(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDates(date).amzDate,
    };
    const authorization = signV4(
      { method: 'PUT', url, headers, payloadHash, date },
      {
        accessKeyId: this.location.accessKeyId,
        secretAccessKey: this.location.secretAccessKey,
        region: this.location.region,
        service: 's3',
      },
    );
    return fetch(url, {
      method: 'PUT',
      headers: { ...headers, authorization },
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
  }
}

/**
 * Parses `AUDIT_EXPORT_URL`:
 * - `file:///abs/path` — a local directory;
 * - `s3://ACCESS_KEY:SECRET@host[:port]/bucket[/prefix]?region=eu-west-1&ssl=false` — an S3-compatible
 *   bucket over HTTPS (`ssl=false`: HTTP, for a local MinIO); `http(s)://KEY:SECRET@host/bucket…` names the
 *   scheme directly. Credentials are percent-encoded in the URL (a `/` in a secret is `%2F`).
 */
export function parseExportUrl(
  value: string,
): { kind: 'file'; root: string } | ({ kind: 's3' } & S3Location) {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('AUDIT_EXPORT_URL is not a URL');
  }
  if (url.protocol === 'file:') return { kind: 'file', root: fileURLToPath(url) };
  if (url.protocol !== 's3:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('AUDIT_EXPORT_URL must be a file://, s3:// or http(s):// URL');
  }
  const [bucket, ...prefix] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (!bucket) throw new Error('AUDIT_EXPORT_URL names no bucket (s3://KEY:SECRET@host/bucket[/prefix])');
  if (!url.username || !url.password) {
    throw new Error('AUDIT_EXPORT_URL carries no credentials (s3://KEY:SECRET@host/bucket)');
  }
  const secure = url.protocol === 's3:' ? url.searchParams.get('ssl') !== 'false' : url.protocol === 'https:';
  return {
    kind: 's3',
    endpoint: `${secure ? 'https' : 'http'}://${url.host}`,
    bucket,
    prefix: prefix.join('/'),
    region: url.searchParams.get('region') ?? 'us-east-1',
    accessKeyId: decodeURIComponent(url.username),
    secretAccessKey: decodeURIComponent(url.password),
  };
}

export function exportTargetFromUrl(value: string): ExportTarget {
  const parsed = parseExportUrl(value);
  return parsed.kind === 'file' ? new FileExportTarget(parsed.root) : new S3ExportTarget(parsed);
}
