import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations/index.js';

describe('migrations list', () => {
  it('lists every migration file of the folder, in file-name order', () => {
    const files = readdirSync(new URL('./migrations/', import.meta.url))
      .filter((f) => /^Migration.*\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
  });
});
