// `npm start` runs this first: builds dist/ with tsc only when a source changed since the last build, so a second
// start with nothing changed skips the ~20 s compile. The stamp lists every input with its modification time: a
// change, an added or a deleted file (or a checkout that moves times backwards) all count as changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-inputs.json';
const ROOTS = ['src', 'mikro-orm.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function inputs(path: string, out: Record<string, number>): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const entry of readdirSync(path)) inputs(join(path, entry), out);
  } else if (!path.endsWith('.spec.ts')) {
    out[path] = st.mtimeMs;
  }
}

function snapshot(): string {
  const out: Record<string, number> = {};
  for (const root of ROOTS) inputs(root, out);
  return JSON.stringify(out);
}

const before = snapshot();
const force = process.argv.includes('--force');
if (!force && existsSync(STAMP) && existsSync('dist/src/main.js') && readFileSync(STAMP, 'utf8') === before) {
  process.stdout.write('dist/ is up to date with src/: skipping the build (npm run build forces one).\n');
  process.exit(0);
}
process.stdout.write('Building dist/ (tsc)…\n');
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// The inputs as they were when the build began: an edit made during the build rebuilds next time.
writeFileSync(STAMP, before);
