import { spawn, spawnSync } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One kind of request of a scenario; each request picks one at random. `{n}` in a body becomes unique. */
export interface Target {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  body?: string;
  /**
   * A conditional write (If-Match): the target's current ETag. While a request to this target is in flight no
   * other request picks it, and the ETag of its answer is the If-Match of the next (one writer per resource at a
   * time, like an editor that reads what it wrote: no 412s). Needs autocannon (wrk cannot carry it).
   */
  etag?: string;
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  /** Load-generator threads (wrk); one leaves the second core to the server and PostgreSQL. */
  threads: number;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** Responses with a status ≥ 400 plus socket errors and timeouts: a valid measurement has none. */
  errors: number;
}

const LUA = fileURLToPath(new URL('./load.lua', import.meta.url));

/** `wrk` (Debian package `wrk`) when installed, else autocannon (a devDependency), with the same scenarios. */
export function loadGenerator(): 'wrk' | 'autocannon' {
  return spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';
}

export async function runLoad(baseUrl: string, targets: Target[], options: LoadOptions): Promise<LoadResult> {
  return loadGenerator() === 'wrk' && !targets.some((t) => t.etag !== undefined)
    ? runWrk(baseUrl, targets, options)
    : runAutocannon(baseUrl, targets, options);
}

async function runWrk(baseUrl: string, targets: Target[], options: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantry-bench-'));
  const file = join(dir, 'targets.tsv');
  writeFileSync(
    file,
    targets.map((t) => [t.method, t.path, t.token ?? '', t.body ?? ''].join('\t')).join('\n') + '\n',
  );
  const nonce = `r${randomBytes(3).toString('hex')}`;
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    '--timeout',
    '10s',
    '-s',
    LUA,
    baseUrl,
    '--',
    file,
    nonce,
  ];
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
      );
    });
    const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(line) as {
      requests: number;
      durationUs: number;
      errors: Record<string, number>;
      p50Us: number;
      p90Us: number;
      p99Us: number;
      maxUs: number;
    };
    return {
      rps: r.requests / (r.durationUs / 1e6),
      p50Ms: r.p50Us / 1000,
      p90Ms: r.p90Us / 1000,
      p99Ms: r.p99Us / 1000,
      maxMs: r.maxUs / 1000,
      requests: r.requests,
      errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(baseUrl: string, targets: Target[], options: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  const nonce = `r${randomBytes(3).toString('hex')}`;
  let counter = 0;
  // Conditional targets not in flight, and each one's latest ETag (see `Target.etag`).
  const idle = targets.filter((t) => t.etag !== undefined);
  const etags = new Map(idle.map((t) => [t, t.etag ?? '']));
  const conditional = idle.length > 0;
  if (conditional && idle.length < options.connections) {
    throw new Error(`${idle.length} conditional targets for ${options.connections} connections`);
  }
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests: [
      {
        setupRequest: (request, context: { target?: Target }) => {
          const t = conditional
            ? idle.splice(Math.floor(Math.random() * idle.length), 1)[0]
            : targets[Math.floor(Math.random() * targets.length)];
          context.target = t;
          return {
            ...request,
            method: t.method,
            path: t.path,
            headers: {
              ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
              ...(t.body ? { 'content-type': 'application/json' } : {}),
              ...(conditional ? { 'if-match': etags.get(t) ?? '' } : {}),
              // MCP's Streamable HTTP requires a POST to accept both (bench/mcp.ts).
              ...(t.path === '/mcp' ? { accept: 'application/json, text/event-stream' } : {}),
            },
            ...(t.body ? { body: t.body.replaceAll('{n}', `${nonce}x${++counter}`) } : {}),
          };
        },
        onResponse: (_status, _body, context: object, headers?: IncomingHttpHeaders) => {
          const t = (context as { target?: Target }).target;
          if (!conditional || !t) return;
          if (headers?.etag) etags.set(t, headers.etag);
          idle.push(t);
        },
      },
    ],
  });
  return {
    rps: result.requests.total / (result.duration || options.durationSeconds),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}
