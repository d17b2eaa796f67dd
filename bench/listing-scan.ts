/**
 * The cost of the listing secret scan (`node --import @swc-node/register/esm-register bench/listing-scan.ts`):
 * the default `ListingScanner` over a listing of the largest size a definition may have (256 KiB: 50 steps with
 * long prompts and tool inputs, a wide input schema), clean (every detector runs over every string to the end)
 * and with one secret, `--runs` times each, interleaved; prints p50 / p99 in milliseconds. In-process, no
 * database: the scan runs before the listing's transaction opens.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { findSecrets } from '../src/listings/listing-scanner.js';
import type { ListingSnapshot } from '../src/listings/listing.entity.js';
import type { TemplateStep } from '../src/templates/definition.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const runs = Number(opts.runs);

const words = 'approve vendor invoice amount currency ledger review manager payment due net terms'.split(' ');
const text = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length]).join(' ');

function listing(secret: boolean): ListingSnapshot {
  const steps: TemplateStep[] = Array.from({ length: 50 }, (_, i) =>
    i % 2 === 0
      ? {
          id: `s${i}`,
          kind: 'tool',
          name: `Step ${i}`,
          toolId: 'erp.vendor.lookup',
          input: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`field${k}`, text(30, i + k)])),
        }
      : { id: `s${i}`, kind: 'approval', name: `Step ${i}`, minRole: 'manager', prompt: text(150, i) },
  );
  const properties = Object.fromEntries(
    Array.from({ length: 100 }, (_, k) => [`p${k}`, { type: 'string', title: text(10, k) }]),
  );
  if (secret) (steps[49] as { prompt: string }).prompt += ' AKIAIOSFODNN7EXAMPLE';
  return {
    name: 'Big listing',
    description: text(300, 1),
    category: 'finance',
    inputSchema: { type: 'object', properties },
    steps,
    publisherName: 'Bench',
    summary: text(60, 2),
  };
}

const samples = { clean: [] as number[], secret: [] as number[] };
const inputs = { clean: listing(false), secret: listing(true) };
const bytes = Buffer.byteLength(JSON.stringify(inputs.clean));
for (let i = 0; i < runs + 20; i++) {
  for (const kind of ['clean', 'secret'] as const) {
    const start = performance.now();
    const findings = findSecrets(inputs[kind]);
    const ms = performance.now() - start;
    if (findings.length !== (kind === 'secret' ? 1 : 0))
      throw new Error(`${kind}: ${findings.length} findings`);
    if (i >= 20) samples[kind].push(ms);
  }
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
console.log(`listing of ${(bytes / 1024).toFixed(0)} KiB, ${runs} runs each (after 20 warm-up)`);
for (const kind of ['clean', 'secret'] as const) {
  console.log(
    `${kind.padEnd(6)} p50 ${pct(samples[kind], 0.5).toFixed(2)} ms  p99 ${pct(samples[kind], 0.99).toFixed(2)} ms`,
  );
}
