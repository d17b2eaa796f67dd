import 'reflect-metadata';
import { Entity, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { allEntities } from './entities.js';
import { buildOrmConfig } from './orm.config.js';

// A table a future feature might add: its relation to another tenant table must be born composite.
@Entity({ tableName: 'spec_parents' })
class SpecParent extends TenantEntity {
  @Property({ type: 'string', length: 10 })
  name = 'p';
}

@Entity({ tableName: 'spec_children' })
class SpecChild extends TenantEntity {
  @ManyToOne(() => SpecParent, { mapToPk: true, fieldName: 'parent_id', deleteRule: 'cascade' })
  parentId!: string;
}

@Entity({ tableName: 'spec_nullable_children' })
class SpecNullableChild extends TenantEntity {
  @ManyToOne(() => SpecParent, {
    mapToPk: true,
    fieldName: 'parent_id',
    nullable: true,
    deleteRule: 'set null',
  })
  parentId: string | null = null;
}

/** Metadata only: the ORM is constructed (synchronous discovery) and never connects. */
const ormWith = (extra: unknown[]) =>
  new MikroORM({
    ...buildOrmConfig({ url: 'postgres://nobody@127.0.0.1:1/never' }),
    entities: [...allEntities(), ...extra] as never,
  });

describe('TenantSchemaGenerator (wall three in generated migrations)', () => {
  let orm: MikroORM | undefined;
  afterEach(async () => {
    await orm?.close(true);
    orm = undefined;
  });

  it('generates every tenant-to-tenant key with the company, global keys plain, and UNIQUE (company_id, id)', () => {
    orm = ormWith([SpecParent, SpecChild]);
    const schema = orm.schema.getTargetSchema();
    const fk = (table: string, name: string) => schema.getTable(table)?.getForeignKeys()[name];

    expect(fk('spec_children', 'spec_children_parent_id_foreign')).toMatchObject({
      columnNames: ['company_id', 'parent_id'],
      referencedTableName: 'public.spec_parents',
      referencedColumnNames: ['company_id', 'id'],
      deleteRule: 'cascade',
    });
    expect(fk('run_steps', 'run_steps_run_id_foreign')).toMatchObject({
      columnNames: ['company_id', 'run_id'],
      referencedColumnNames: ['company_id', 'id'],
    });
    // Keys to global rows stay plain.
    expect(fk('memberships', 'memberships_user_id_foreign')).toMatchObject({
      columnNames: ['user_id'],
      referencedColumnNames: ['id'],
    });
    expect(fk('spec_children', 'spec_children_company_id_foreign')).toMatchObject({
      columnNames: ['company_id'],
      referencedColumnNames: ['id'],
    });
    for (const table of ['spec_parents', 'spec_children', 'runs', 'memberships']) {
      const unique = schema
        .getTable(table)
        ?.getIndexes()
        .find((i) => i.keyName === `${table}_company_id_id_unique`);
      expect(unique, table).toMatchObject({ columnNames: ['company_id', 'id'], unique: true });
    }
    expect(
      schema
        .getTable('companies')
        ?.getIndexes()
        .map((i) => i.keyName),
    ).not.toContain('companies_company_id_id_unique');
  });

  it('refuses to generate a composite ON DELETE SET NULL (it would null company_id too)', () => {
    orm = ormWith([SpecParent, SpecNullableChild]);
    expect(() => orm!.schema.getTargetSchema()).toThrow(/SET NULL \(column\)/);
  });
});
