import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations/index.js';

const folder = new URL('./migrations/', import.meta.url);
const migrationFiles = () => readdirSync(folder).filter((f) => /^Migration.*\.ts$/.test(f));

describe('migrations list', () => {
  it('lists every migration file of the folder, in file-name order', () => {
    const files = migrationFiles()
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
  });

  it('are frozen text: no migration imports anything but @mikro-orm/migrations', () => {
    const offenders: string[] = [];
    for (const file of migrationFiles()) {
      const source = readFileSync(new URL(file, folder), 'utf8');
      // Static imports and re-exports (`import … from 'x'`, `import 'x'`, `export … from 'x'`) and dynamic ones.
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gms),
        ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g),
        ...source.matchAll(/\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g),
      ].map((m) => m[1]);
      for (const specifier of specifiers) {
        if (specifier !== '@mikro-orm/migrations') offenders.push(`${file}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
