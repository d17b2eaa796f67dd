import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000000_bootstrap } from './Migration20261122000000_bootstrap.js';
import { Migration20261122233201_identity } from './Migration20261122233201_identity.js';
import { Migration20261122235232_company_admin } from './Migration20261122235232_company_admin.js';

/**
 * Every migration, in order. Listed statically so the compiled app, the tests and the CLI run the same set;
 * a test checks that every file in this folder is listed. Add a line here when you generate a migration.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000000_bootstrap', class: Migration20261122000000_bootstrap },
  { name: 'Migration20261122233201_identity', class: Migration20261122233201_identity },
  { name: 'Migration20261122235232_company_admin', class: Migration20261122235232_company_admin },
];
