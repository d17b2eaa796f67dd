import type { AbstractSqlDriver } from '@mikro-orm/sql';
import type { Configuration } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../database/migrations/index.js';
import { RUN_READ_FUNCTIONS } from './run-reads.sql.js';

type MigrationClass = new (driver: AbstractSqlDriver, config: Configuration) => Migration;

/** The statements a migration's `up()` adds (migrations of this project add plain strings). */
async function upQueries(cls: MigrationClass): Promise<string[]> {
  const migration = new cls(undefined as unknown as AbstractSqlDriver, undefined as unknown as Configuration);
  await migration.up();
  return migration.getQueries().map(String);
}

describe('run read functions', () => {
  it('are installed, by copy, by the newest migration that defines them', async () => {
    let newest: { name: string; queries: string[] } | undefined;
    for (const m of MIGRATIONS) {
      const queries = await upQueries(m.class as MigrationClass);
      if (queries.some((q) => /function tenant_run(s_page)?\(/.test(q))) newest = { name: m.name, queries };
    }
    expect(newest, 'a migration installs the run read functions').toBeDefined();
    const installed = newest!.queries.filter((q) => /function tenant_run(s_page)?\(/.test(q));
    expect(installed, `${newest!.name} must carry RUN_READ_FUNCTIONS verbatim: add a new migration`).toEqual([
      ...RUN_READ_FUNCTIONS,
    ]);
  });

  it('take their company from the transaction, never set it from their argument', () => {
    for (const sql of RUN_READ_FUNCTIONS) {
      expect(sql).not.toMatch(/set_config/);
      expect(sql).toContain("current_setting('app.company_id', true)");
    }
  });
});
