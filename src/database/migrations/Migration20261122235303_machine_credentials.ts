import { Migration } from '@mikro-orm/migrations';

export class Migration20261122235303_machine_credentials extends Migration {
  override name = 'Migration20261122235303_machine_credentials';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "applications" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "name" varchar(100) not null, "description" varchar(1000) null, "role" text not null, "client_id" varchar(64) not null, "client_id_hash" text not null, "client_secret_hash" text not null, "secret_rotated_at" timestamptz not null, "created_by" uuid not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "applications" add constraint "applications_client_id_hash_unique" unique ("client_id_hash");`,
    );
    this.addSql(`create index "applications_company_id_idx" on "applications" ("company_id", "id");`);

    this.addSql(
      `create table "api_keys" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "name" varchar(100) not null, "role" text not null, "key_hash" text not null, "last4" varchar(4) not null, "created_by" uuid not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, "revoked_reason" varchar(500) null, "revoked_by" uuid null, "rotated_from_id" uuid null, "replaced_by_id" uuid null, primary key ("id"));`,
    );
    this.addSql(`alter table "api_keys" add constraint "api_keys_key_hash_unique" unique ("key_hash");`);
    this.addSql(`create index "api_keys_company_id_idx" on "api_keys" ("company_id", "id");`);

    this.addSql(
      `create table "idempotency_records" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "principal_id" varchar(100) not null, "scope" varchar(100) not null, "key" varchar(255) not null, "request_hash" varchar(64) not null, "resource_type" varchar(50) not null, "resource_id" uuid not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "idempotency_records" add constraint "idempotency_records_company_key_unique" unique ("company_id", "principal_id", "scope", "key");`,
    );

    this.addSql(
      `alter table "applications" add constraint "applications_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "applications" add constraint "applications_role_check" check ("role" in ('owner', 'admin', 'manager', 'member'));`,
    );
    this.addSql(`alter table "applications" enable row level security;`);
    this.addSql(`alter table "applications" force row level security;`);
    this.addSql(
      `create policy "applications_tenant_isolation" on "applications" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    this.addSql(
      `create policy "applications_by_hash_read" on "applications" for select using (client_id_hash = nullif(current_setting('app.credential_hash', true), ''));`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_role_check" check ("role" in ('owner', 'admin', 'manager', 'member'));`,
    );
    this.addSql(`alter table "api_keys" enable row level security;`);
    this.addSql(`alter table "api_keys" force row level security;`);
    this.addSql(
      `create policy "api_keys_tenant_isolation" on "api_keys" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    this.addSql(
      `create policy "api_keys_by_hash_read" on "api_keys" for select using (key_hash = nullif(current_setting('app.credential_hash', true), ''));`,
    );

    this.addSql(
      `alter table "idempotency_records" add constraint "idempotency_records_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "idempotency_records" enable row level security;`);
    this.addSql(`alter table "idempotency_records" force row level security;`);
    this.addSql(
      `create policy "idempotency_records_tenant_isolation" on "idempotency_records" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }
}
