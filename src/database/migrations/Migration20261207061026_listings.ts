import { Migration } from '@mikro-orm/migrations';

/**
 * The community marketplace (issue 18). `listings` is the one table every company reads: not a tenant table
 * (no `company_id`), row-level security with two policies (read: any company's session; write: the publisher's
 * company only), enabled but not forced, so that `listing_installed`, SECURITY DEFINER and owned by the schema
 * owner, can add one to another company's install count: the only write an installer makes, the only column it
 * touches, and nothing of the installer is stored. The application role cannot update `install_count` itself
 * (column grants). No foreign key goes from a listing to a tenant table: `draft_listings`, a tenant table on the
 * publisher's side, records which draft and version each listing was copied from and points at the listing.
 */
export class Migration20261207061026_listings extends Migration {
  override name = 'Migration20261207061026_listings';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "listings" ("id" uuid not null, "created_at" timestamptz not null default now(), "publisher_company_id" uuid not null, "name" varchar(200) not null, "description" text not null, "category" varchar(40) not null, "input_schema" json not null, "steps" json not null, "publisher_name" varchar(100) not null, "summary" varchar(500) null, "listed_at" timestamptz not null, "install_count" int not null default 0, primary key ("id"));`,
    );
    this.addSql(`create index "listings_category_id_idx" on "listings" ("category", "id");`);
    this.addSql(`create index "listings_publisher_company_idx" on "listings" ("publisher_company_id");`);

    this.addSql(
      `create table "draft_listings" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "draft_id" uuid not null, "version_id" uuid not null, "listing_id" uuid not null, "listed_by" varchar(100) not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "draft_listings" add constraint "draft_listings_company_draft_unique" unique ("company_id", "draft_id");`,
    );
    this.addSql(
      `alter table "draft_listings" add constraint "draft_listings_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `alter table "listings" add constraint "listings_publisher_company_id_foreign" foreign key ("publisher_company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "listings" enable row level security;`);
    this.addSql(
      `create policy "listings_read_any_company" on "listings" for select using (nullif(current_setting('app.company_id', true), '')::uuid is not null);`,
    );
    this.addSql(
      `create policy "listings_publisher_write" on "listings" using (publisher_company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (publisher_company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "draft_listings" add constraint "draft_listings_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "draft_listings" add constraint "draft_listings_draft_id_foreign" foreign key ("company_id", "draft_id") references "drafts" ("company_id", "id");`,
    );
    this.addSql(
      `alter table "draft_listings" add constraint "draft_listings_listing_id_foreign" foreign key ("listing_id") references "listings" ("id") on delete cascade;`,
    );
    this.addSql(`alter table "draft_listings" enable row level security;`);
    this.addSql(`alter table "draft_listings" force row level security;`);
    this.addSql(
      `create policy "draft_listings_tenant_isolation" on "draft_listings" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    // The publisher edits its copy; nobody sets a count by hand.
    this.addSql(`revoke update on table "listings" from tenantry_app;`);
    this.addSql(
      `grant update ("name", "description", "category", "input_schema", "steps", "publisher_name", "summary", "listed_at") on table "listings" to tenantry_app;`,
    );
    this.addSql(`create or replace function listing_installed(p_installer uuid, p_listing uuid) returns int
      language sql security definer set search_path = pg_catalog, public as $fn$
        update public.listings set install_count = install_count + 1
         where id = p_listing and p_installer = nullif(current_setting('app.company_id', true), '')::uuid
        returning install_count
      $fn$;`);
    this.addSql(`revoke all on function listing_installed(uuid, uuid) from public;`);
    this.addSql(`grant execute on function listing_installed(uuid, uuid) to tenantry_app;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists listing_installed(uuid, uuid);`);
    this.addSql(`drop table if exists "draft_listings";`);
    this.addSql(`drop table if exists "listings";`);
  }
}
