import { Migration } from '@mikro-orm/migrations';

/**
 * The application's login role and its privileges (hand-written: the schema generator does not manage roles).
 * `tenantry_app` owns nothing, is no superuser and cannot bypass row-level security; it gets DML on every
 * table the owner creates from here on (default privileges), and per-table exceptions are revoked where a
 * table is append-only (audit events). Its password is set by `npm run migrate`, not here.
 */
export class Migration20261122000000_bootstrap extends Migration {
  override name = 'Migration20261122000000_bootstrap';

  override up(): void {
    this.addSql(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'tenantry_app') then
        create role tenantry_app login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
      end if;
    exception when duplicate_object then null;
    end $$;`);
    this.addSql(`grant usage on schema public to tenantry_app;`);
    this.addSql(
      `alter default privileges in schema public grant select, insert, update, delete on tables to tenantry_app;`,
    );
    this.addSql(
      `alter default privileges in schema public grant usage, select on sequences to tenantry_app;`,
    );
    this.addSql(`grant select on table mikro_orm_migrations to tenantry_app;`);
  }

  override down(): void {
    this.addSql(`revoke select on table mikro_orm_migrations from tenantry_app;`);
    this.addSql(
      `alter default privileges in schema public revoke usage, select on sequences from tenantry_app;`,
    );
    this.addSql(
      `alter default privileges in schema public revoke select, insert, update, delete on tables from tenantry_app;`,
    );
    this.addSql(`revoke usage on schema public from tenantry_app;`);
  }
}
