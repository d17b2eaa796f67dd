import { Migration } from '@mikro-orm/migrations';

export class Migration20261122235530_connectors extends Migration {
  override name = 'Migration20261122235530_connectors';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "company_keys" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "wrapped_key" text not null, "master_key_id" varchar(32) not null, "rotated_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "company_keys" add constraint "company_keys_company_unique" unique ("company_id");`,
    );
    // Hand-written: the application may create a company's data key and read it, never replace or destroy it
    // (only `master-key rotate`, as the owner, re-wraps keys; a company purge removes them by cascade).
    this.addSql(`revoke update, delete, truncate on table "company_keys" from tenantry_app;`);

    this.addSql(
      `create table "connectors" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "tool_id" varchar(100) not null, "endpoint_url" varchar(2048) not null, "auth_scheme" varchar(120) not null, "secret_ciphertext" text null, "secret_set_at" timestamptz null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "connectors_company_id_idx" on "connectors" ("company_id", "id");`);
    this.addSql(
      `alter table "connectors" add constraint "connectors_company_tool_unique" unique ("company_id", "tool_id");`,
    );

    this.addSql(
      `alter table "company_keys" add constraint "company_keys_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "company_keys" add constraint "company_keys_wrapped_key_check" check (starts_with(wrapped_key, 'v1:'));`,
    );
    this.addSql(`alter table "company_keys" enable row level security;`);
    this.addSql(`alter table "company_keys" force row level security;`);
    this.addSql(
      `create policy "company_keys_tenant_isolation" on "company_keys" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "connectors" add constraint "connectors_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "connectors" add constraint "connectors_secret_sealed_check" check (starts_with(secret_ciphertext, 'v1:'));`,
    );
    this.addSql(`alter table "connectors" enable row level security;`);
    this.addSql(`alter table "connectors" force row level security;`);
    this.addSql(
      `create policy "connectors_tenant_isolation" on "connectors" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "connectors" cascade;`);
    this.addSql(`drop table if exists "company_keys" cascade;`);
  }
}
