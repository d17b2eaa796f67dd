import { Migration } from '@mikro-orm/migrations';

export class Migration20261207055808_accounts extends Migration {
  override name = 'Migration20261207055808_accounts';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "accounts" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(200) not null, "owner_user_id" uuid null, "plan" text not null default 'free', "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "accounts_owner_user_idx" on "accounts" ("owner_user_id");`);

    this.addSql(
      `create table "account_run_usage" ("id" uuid not null, "created_at" timestamptz not null default now(), "account_id" uuid not null, "month" varchar(7) not null, "count" int not null default 0, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "account_run_usage" add constraint "account_run_usage_account_month_unique" unique ("account_id", "month");`,
    );

    // Every existing company gets an account of its own, owned by its first owner (the earliest owner membership;
    // failing that its earliest member; none: an ownerless account the CLI administers), named like the company.
    this.addSql(`alter table "companies" add "account_id" uuid null;`);
    this.addSql(`alter table "memberships" no force row level security;`);
    this.addSql(
      `create temporary table "account_backfill" as select c.id as company_id, gen_random_uuid() as account_id, c.name, c.created_at, (select m.user_id from memberships m where m.company_id = c.id order by (m.role = 'owner') desc, m.created_at, m.id limit 1) as owner_user_id from companies c;`,
    );
    this.addSql(`alter table "memberships" force row level security;`);
    this.addSql(
      `insert into "accounts" (id, created_at, name, owner_user_id) select account_id, created_at, name, owner_user_id from account_backfill;`,
    );
    this.addSql(
      `update "companies" c set account_id = b.account_id from account_backfill b where b.company_id = c.id;`,
    );
    this.addSql(`drop table "account_backfill";`);
    this.addSql(`alter table "companies" alter column "account_id" set not null;`);
    this.addSql(
      `alter table "companies" add constraint "companies_account_id_foreign" foreign key ("account_id") references "accounts" ("id");`,
    );
    this.addSql(`create index "companies_account_idx" on "companies" ("account_id");`);

    this.addSql(
      `alter table "accounts" add constraint "accounts_owner_user_id_foreign" foreign key ("owner_user_id") references "users" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "account_run_usage" add constraint "account_run_usage_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on delete cascade;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "companies" drop constraint "companies_account_id_foreign";`);
    this.addSql(`alter table "account_run_usage" drop constraint "account_run_usage_account_id_foreign";`);

    this.addSql(`drop index "companies_account_idx";`);
    this.addSql(`alter table "companies" drop column "account_id";`);
    this.addSql(`drop table if exists "account_run_usage";`);
    this.addSql(`drop table if exists "accounts";`);
  }
}
