import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { ToolCallError } from './connector-invoker.js';
import { type AddressPolicy, EndpointRefusedError, type ResolvedAddress } from './address-policy.js';

/** Resolves a host name to every address it has (all families, in resolver order). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, order: 'verbatim' })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface OutboundRequest {
  url: string;
  /** Extra request headers (authentication, idempotency key). */
  headers: Record<string, string>;
  /** The JSON body. */
  body: string;
  timeoutMs: number;
  /** Aborting it destroys the request (its socket too): the call fails at once. */
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  /** The body, read up to the cap (empty for redirects, which are never followed). */
  body: Buffer;
  durationMs: number;
}

/** Responses larger than this are cut off and the call fails (`response_too_large`). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const USER_AGENT = 'Tenantry-Connector/1';

class Deadline {
  private readonly started = performance.now();
  constructor(private readonly timeoutMs: number) {}
  remaining(): number {
    return Math.max(0, this.timeoutMs - (performance.now() - this.started));
  }
  elapsed(): number {
    return Math.round(performance.now() - this.started);
  }
}

function timeoutError(timeoutMs: number): ToolCallError {
  return new ToolCallError(`The endpoint did not answer within ${timeoutMs} ms`, 'timeout', true);
}

/**
 * The only way Tenantry sends a request to a connector endpoint. Per call:
 * 1. the URL passes the static policy (scheme, https in production, IP literals, never-public names);
 * 2. the host is resolved once and *every* address is checked;
 * 3. the connection goes to the vetted address itself (the `Host` header and TLS server name keep the host
 *    name), so a second DNS answer cannot swap in an internal address (DNS rebinding);
 * 4. redirects are not followed: a 3xx comes back as a status for the caller to report, so a public endpoint
 *    cannot bounce the request (and its credentials) to an internal address or another origin;
 * 5. one deadline covers resolution, connection, headers and body; the body is capped at 1 MiB.
 * Failures are `ToolCallError`s: `refused` (policy), `timeout`, `network`, `response_too_large`.
 */
export class OutboundHttp {
  constructor(
    private readonly policy: AddressPolicy,
    private readonly resolve: Resolver = systemResolver,
    private readonly maxResponseBytes = MAX_RESPONSE_BYTES,
  ) {}

  async post(request: OutboundRequest): Promise<OutboundResponse> {
    const deadline = new Deadline(request.timeoutMs);
    let target: ReturnType<AddressPolicy['checkUrl']>;
    let address: ResolvedAddress;
    try {
      target = this.policy.checkUrl(request.url);
      address =
        target.ip ??
        this.policy.pickAddress(
          target.hostname,
          await this.lookup(target.hostname, deadline, request.timeoutMs),
        );
    } catch (e) {
      if (e instanceof EndpointRefusedError) throw new ToolCallError(e.message, 'refused', false);
      throw e;
    }
    const { url, hostname } = target;
    const body = Buffer.from(request.body, 'utf8');
    const client = url.protocol === 'https:' ? https : http;
    const options: https.RequestOptions = {
      method: 'POST',
      host: address.address,
      family: address.family,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...request.headers,
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(body.length),
        accept: 'application/json',
        'accept-encoding': 'identity',
        'user-agent': USER_AGENT,
      },
      agent: false,
      // TLS verifies the certificate against the host name, not the address we pinned.
      servername: target.ip ? undefined : hostname,
    };

    return new Promise<OutboundResponse>((resolve, reject) => {
      let settled = false;
      const onAbort = () =>
        finish(new ToolCallError('The call was abandoned by its caller', 'network', false));
      const finish = (error: ToolCallError | undefined, response?: OutboundResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(response!);
      };
      const timer = setTimeout(() => finish(timeoutError(request.timeoutMs)), deadline.remaining());
      const req = client.request(options, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          finish(undefined, { status, body: Buffer.alloc(0), durationMs: deadline.elapsed() });
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
          finish(this.tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) finish(this.tooLarge());
          else chunks.push(chunk);
        });
        res.on('end', () =>
          finish(undefined, { status, body: Buffer.concat(chunks), durationMs: deadline.elapsed() }),
        );
        res.on('error', (e) => finish(networkError(e)));
      });
      req.on('error', (e) => finish(networkError(e)));
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  private async lookup(hostname: string, deadline: Deadline, timeoutMs: number): Promise<ResolvedAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(timeoutMs)), deadline.remaining());
    });
    try {
      return await Promise.race([this.resolve(hostname), timeout]);
    } catch (e) {
      if (e instanceof ToolCallError) throw e;
      throw new ToolCallError('The endpoint host name could not be resolved', 'network', true);
    } finally {
      clearTimeout(timer);
    }
  }

  private tooLarge(): ToolCallError {
    return new ToolCallError(
      `The response exceeds ${this.maxResponseBytes} bytes`,
      'response_too_large',
      false,
    );
  }
}

function networkError(e: Error & { code?: string }): ToolCallError {
  const code = e.code ? ` (${e.code})` : '';
  return new ToolCallError(`The endpoint could not be reached${code}`, 'network', true);
}
