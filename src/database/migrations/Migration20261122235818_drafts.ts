import { Migration } from '@mikro-orm/migrations';

export class Migration20261122235818_drafts extends Migration {
  override name = 'Migration20261122235818_drafts';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "drafts" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "key" varchar(100) not null, "name" varchar(200) not null, "description" text not null, "category" varchar(40) not null, "input_schema" json not null, "steps" json not null, "status" text not null, "version" int not null, "has_unpublished_changes" boolean not null, "published_version" int null, "published_version_id" uuid null, "created_by" varchar(100) not null, "updated_by" varchar(100) not null, "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "drafts_company_id_idx" on "drafts" ("company_id", "id");`);
    this.addSql(
      `alter table "drafts" add constraint "drafts_company_key_unique" unique ("company_id", "key");`,
    );

    this.addSql(
      `create table "draft_versions" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "draft_id" uuid not null, "version" int not null, "key" varchar(100) not null, "definition" json not null, "published_by" varchar(100) not null, "published_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "draft_versions_company_draft_id_idx" on "draft_versions" ("company_id", "draft_id", "id");`,
    );
    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_company_draft_version_unique" unique ("company_id", "draft_id", "version");`,
    );

    this.addSql(
      `alter table "drafts" add constraint "drafts_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "drafts" add constraint "drafts_status_check" check ("status" in ('draft', 'published', 'unpublished'));`,
    );
    this.addSql(`alter table "drafts" enable row level security;`);
    this.addSql(`alter table "drafts" force row level security;`);
    this.addSql(
      `create policy "drafts_tenant_isolation" on "drafts" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    // Immutable for the application role: no UPDATE or DELETE grant (and the trigger below for everyone).
    this.addSql(`revoke update, delete, truncate on table "draft_versions" from tenantry_app;`);

    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_draft_id_foreign" foreign key ("draft_id") references "drafts" ("id");`,
    );
    this.addSql(
      `create or replace function "draft_versions_immutable_fn"() returns trigger as \$\$ begin if tg_op = 'DELETE' and not exists (select 1 from companies c where c.id = old.company_id) then return old; end if; raise exception 'draft versions are immutable' using errcode = 'TY409'; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "immutable" BEFORE UPDATE OR DELETE on "draft_versions" for each ROW execute function "draft_versions_immutable_fn"();`,
    );
    this.addSql(`alter table "draft_versions" enable row level security;`);
    this.addSql(`alter table "draft_versions" force row level security;`);
    this.addSql(
      `create policy "draft_versions_tenant_isolation" on "draft_versions" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "draft_versions" drop constraint "draft_versions_draft_id_foreign";`);
  }
}
