import { Migration } from '@mikro-orm/migrations';

/**
 * Data-loss prevention (issue 18): one policy row per company (`UNIQUE (company_id)`), with `UNIQUE (company_id,
 * id)` (wall three) and row-level security like every tenant table.
 */
export class Migration20261207055524_dlp extends Migration {
  override name = 'Migration20261207055524_dlp';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "dlp_policies" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "rules" jsonb not null, "version" int not null default 1, "updated_by" varchar(100) not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "dlp_policies" add constraint "dlp_policies_company_unique" unique ("company_id");`,
    );
    this.addSql(
      `alter table "dlp_policies" add constraint "dlp_policies_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `alter table "dlp_policies" add constraint "dlp_policies_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "dlp_policies" enable row level security;`);
    this.addSql(`alter table "dlp_policies" force row level security;`);
    this.addSql(
      `create policy "dlp_policies_tenant_isolation" on "dlp_policies" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }
}
