// Decorator metadata (class-transformer, MikroORM, Nest) needs the Reflect polyfill loaded before any entity.
import 'reflect-metadata';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { requestEntityManager } from '../tenancy/request-em.js';
import { attachTenantKeys, attachTenantPolicy } from '../tenancy/tenant.entity.js';
import { allEntities } from './entities.js';
import { nameRegisteredStatements } from './prepared-statements.js';
import { TenantSchemaGenerator } from './tenant-schema-generator.js';
import { MIGRATIONS } from './migrations/index.js';

/** The login role the application connects as: it owns nothing, so row-level security binds it. */
export const APP_DB_ROLE = 'tenantry_app';

export interface OrmConfigInput {
  url: string;
  poolMax?: number;
  debug?: boolean;
  /** Receives ORM log lines (queries when `debug`). */
  log?: (message: string) => void;
}

/** One MikroORM configuration for the app (as `tenantry_app`) and for migrations (as the owner). */
export function buildOrmConfig(input: OrmConfigInput): Options {
  return defineConfig({
    clientUrl: input.url,
    entities: allEntities(),
    metadataProvider: ReflectMetadataProvider,
    discovery: {
      onMetadata: (meta) => {
        attachTenantPolicy(meta);
        attachTenantKeys(meta);
      },
    },
    // The injected EntityManager resolves to the current request's (or job's) own fork, made on first use.
    context: requestEntityManager,
    // TenantSchemaGenerator: foreign keys between tenant tables include company_id (wall three).
    extensions: [Migrator, TenantSchemaGenerator],
    pool: { min: 0, max: input.poolMax ?? 10 },
    // Registered hand-written statements (the audit append, …) go out as named prepared statements.
    driverOptions: { onPoolCreated: nameRegisteredStatements },
    forceUtcTimezone: true,
    // Transaction strategy: `set_config(..., true)` inside each transaction, so a pooled connection never
    // carries a company to the next request.
    sessionContext: 'transaction',
    debug: input.debug ?? false,
    logger: input.log ?? (() => undefined),
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: 'src/database/migrations',
      pathTs: 'src/database/migrations',
      migrationsList: MIGRATIONS,
      snapshot: true,
      snapshotName: '.snapshot-tenantry',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      dropTables: false,
      safe: false,
      fileName: (timestamp: string, name?: string) => `Migration${timestamp}${name ? '_' + name : ''}`,
    },
    schemaGenerator: {
      disableForeignKeys: false,
      createForeignKeyConstraints: true,
      // The tenant-scoped read functions (`tenant_*`) are hand-written in migrations, not entity metadata:
      // the schema diff must leave them alone rather than propose dropping them.
      ignoreRoutines: true,
      // The shared rate-limit counters (migration `user_rate_limits`) are no entity: not part of the diff either.
      ignoreSchema: ['rate_limits'],
    },
  });
}
