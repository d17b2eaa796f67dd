import { Migration } from '@mikro-orm/migrations';

/**
 * Groups (issue 17): named sets of permissions and their members. A member row references the company membership
 * by a composite key with ON DELETE CASCADE (removing a member from the company removes their group memberships),
 * and a check constraint keeps owner-only permissions out of every group, whoever writes the row.
 */
export class Migration20261207055540_groups extends Migration {
  override name = 'Migration20261207055540_groups';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "groups" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "key" varchar(64) not null, "name" varchar(200) not null, "description" text null, "permissions" text[] not null, "created_by" varchar(100) not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "groups" add constraint "groups_company_key_unique" unique ("company_id", "key");`,
    );
    this.addSql(
      `alter table "groups" add constraint "groups_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `create table "group_members" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "group_id" uuid not null, "membership_id" uuid not null, "user_id" uuid not null, "added_by" varchar(100) not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "group_members_company_membership_idx" on "group_members" ("company_id", "membership_id");`,
    );
    this.addSql(
      `create index "group_members_company_user_idx" on "group_members" ("company_id", "user_id");`,
    );
    this.addSql(
      `alter table "group_members" add constraint "group_members_company_group_membership_unique" unique ("company_id", "group_id", "membership_id");`,
    );
    this.addSql(
      `alter table "group_members" add constraint "group_members_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `alter table "groups" add constraint "groups_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "groups" add constraint "groups_no_owner_only_permissions" check (not (permissions && array['ownership:transfer', 'company:delete', 'applications:write']::text[]));`,
    );
    this.addSql(`alter table "groups" enable row level security;`);
    this.addSql(`alter table "groups" force row level security;`);
    this.addSql(
      `create policy "groups_tenant_isolation" on "groups" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "group_members" add constraint "group_members_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "group_members" add constraint "group_members_group_id_foreign" foreign key ("company_id", "group_id") references "groups" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(
      `alter table "group_members" add constraint "group_members_membership_id_foreign" foreign key ("company_id", "membership_id") references "memberships" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(`alter table "group_members" enable row level security;`);
    this.addSql(`alter table "group_members" force row level security;`);
    this.addSql(
      `create policy "group_members_tenant_isolation" on "group_members" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "group_members" drop constraint "group_members_group_id_foreign";`);
  }
}
