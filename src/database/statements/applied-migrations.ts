import type { MikroORM } from '@mikro-orm/postgresql';

/** The names of the migrations the database has applied (readiness), read outside any request's context. */
export async function appliedMigrationNames(orm: MikroORM): Promise<Set<string>> {
  const rows = await orm.em
    .fork({ disableContextResolution: true })
    .getConnection()
    .execute<{ name: string }[]>('select name from mikro_orm_migrations');
  return new Set(rows.map((r) => r.name));
}
