import { readFileSync } from 'node:fs';
import { runLoad, type LoadOptions, type LoadResult, type Target } from './load.js';
import type { ServerProcess } from './servers.js';

/** The `parseArgs` options of a load benchmark: `--rounds 3 --duration 10 --warmup 3 --connections 32 --threads 1`. */
export const LOAD_ARGS = {
  rounds: { type: 'string', default: '3' },
  duration: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '3' },
  connections: { type: 'string', default: '32' },
  threads: { type: 'string', default: '1' },
} as const;

/** The rounds, the measured load and the warm-up of the parsed `LOAD_ARGS`. */
export function loadSettings(args: {
  rounds: string;
  duration: string;
  warmup: string;
  connections: string;
  threads: string;
}): { rounds: number; load: LoadOptions; warmup: LoadOptions } {
  const load = {
    connections: Number(args.connections),
    durationSeconds: Number(args.duration),
    threads: Number(args.threads),
  };
  return { rounds: Number(args.rounds), load, warmup: { ...load, durationSeconds: Number(args.warmup) } };
}

export interface Measured extends LoadResult {
  peakRssMb: number;
  /** Server CPU time per request (user + system), ms. */
  cpuMsPerRequest: number;
  /** Share of the machine's CPU time stolen by the hypervisor during the measurement (a shared VM's noise). */
  stealPct: number;
}

/** Total and stolen CPU ticks of the machine so far (`/proc/stat`; zeros elsewhere). */
function cpuTicks(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

/** The median (of an even count, the mean of the two middle values). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Rounds of one side in one: medians of rates, latencies and CPU; maxima of the worst case, RSS and steal. */
export function summarise(runs: Measured[]): Measured {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p90Ms: median(runs.map((r) => r.p90Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
    stealPct: Math.max(...runs.map((r) => r.stealPct)),
  };
}

/** One round on `server`: `warmup` with the targets of `build`, then `load` with a fresh set, measured. */
export async function measure(
  server: ServerProcess,
  build: () => Promise<Target[]>,
  load: LoadOptions,
  warmup: LoadOptions,
): Promise<Measured> {
  await runLoad(server.url, await build(), warmup);
  // The load ends with requests still in flight, which the server completes after it: a conditional target
  // (a card's ETag) read before they finish is stale, and its first request of the measurement a 412.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const targets = await build();
  server.resetPeak();
  const cpu = server.cpuMs();
  const ticks = cpuTicks();
  const result = await runLoad(server.url, targets, load);
  const after = cpuTicks();
  return {
    ...result,
    peakRssMb: server.peakRssMb(),
    cpuMsPerRequest: (server.cpuMs() - cpu) / Math.max(1, result.requests),
    stealPct: (100 * (after.steal - ticks.steal)) / Math.max(1, after.total - ticks.total),
  };
}
