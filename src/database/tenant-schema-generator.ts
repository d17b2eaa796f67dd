import { ReferenceKind, type EntityMetadata, type MikroORM } from '@mikro-orm/core';
import { SqlSchemaGenerator, type DatabaseSchema, type SqlEntityManager } from '@mikro-orm/postgresql';
import { isTenantMeta } from '../tenancy/tenant.entity.js';

/**
 * Wall three in the schema generator: every foreign key from one tenant table to another is generated as
 * `(company_id, x_id) REFERENCES x (company_id, id)` (the target's `UNIQUE (company_id, id)` is added to every
 * tenant entity by `attachTenantKeys`). Relations stay mapped as before (`@ManyToOne(() => Run, { mapToPk:
 * true })`), so the ORM, its commit order and the API are unchanged; only the constraint the schema carries
 * gains the company. MikroORM cannot express a composite key that shares `company_id` with the entity's own
 * column while the target's primary key stays `id`, hence this one place instead of per-relation options.
 *
 * `npm run migration:create` and `npm run migrate:check` both compare against this target schema, so a new
 * relation between tenant entities is born composite, and a migration that writes it otherwise is drift.
 */
export class TenantSchemaGenerator extends SqlSchemaGenerator {
  static override register(orm: MikroORM): void {
    orm.config.registerExtension(
      '@mikro-orm/schema-generator',
      () => new TenantSchemaGenerator(orm.em as SqlEntityManager),
    );
  }

  override getTargetSchema(schema?: string, includeWildcardSchema?: boolean): DatabaseSchema {
    const target = super.getTargetSchema(schema, includeWildcardSchema);
    for (const meta of this.metadata.getAll().values()) {
      if (isTenantMeta(meta)) {
        compositeTenantForeignKeys(target, meta);
      }
    }
    return target;
  }
}

function compositeTenantForeignKeys(target: DatabaseSchema, meta: EntityMetadata): void {
  const table = target.getTable(meta.tableName);
  if (!table) {
    return;
  }
  const fks = table.getForeignKeys();
  for (const prop of Object.values(meta.properties)) {
    const toOne = prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE;
    if (
      !toOne ||
      !prop.targetMeta ||
      !isTenantMeta(prop.targetMeta) ||
      prop.fieldNames.includes('company_id')
    ) {
      continue;
    }
    const fk = Object.values(fks).find(
      (k) => k.columnNames.length === 1 && k.columnNames[0] === prop.fieldNames[0],
    );
    if (!fk) {
      continue;
    }
    if (/set null/i.test(fk.deleteRule ?? '')) {
      // A composite ON DELETE SET NULL would also null company_id; PostgreSQL 15's `SET NULL (x_id)` is what
      // such a key needs, and the schema diff cannot compare that form: write it by hand in the migration.
      throw new Error(
        `${meta.tableName}.${prop.fieldNames[0]}: a tenant-to-tenant reference with ON DELETE SET NULL needs ` +
          'a hand-written `ON DELETE SET NULL (column)` key; map it without a constraint and add it in SQL',
      );
    }
    fks[fk.constraintName] = {
      ...fk,
      columnNames: ['company_id', ...fk.columnNames],
      referencedColumnNames: ['company_id', ...fk.referencedColumnNames],
    };
  }
  table.setForeignKeys(fks);
}
