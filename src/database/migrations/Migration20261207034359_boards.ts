import { Migration } from '@mikro-orm/migrations';

/**
 * Kanban boards (issue 15): boards, their columns and cards. Every reference between them, and from a card to
 * its run, is a composite key `(company_id, x_id)` (wall three), so no row can point into another company.
 * Ranks are fractional keys compared bytewise (`COLLATE "C"`).
 */
export class Migration20261207034359_boards extends Migration {
  override name = 'Migration20261207034359_boards';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "boards" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "name" varchar(200) not null, "description" text null, "created_by" varchar(100) not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "boards" add constraint "boards_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `create table "board_columns" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "board_id" uuid not null, "name" varchar(200) not null, "rank" text collate "C" not null, "wip_limit" int null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `create index "board_columns_company_board_rank_idx" on "board_columns" ("company_id", "board_id", "rank");`,
    );
    this.addSql(
      `alter table "board_columns" add constraint "board_columns_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `create table "cards" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "board_id" uuid not null, "column_id" uuid not null, "rank" text collate "C" not null, "title" varchar(200) not null, "description" text null, "labels" text[] not null, "due_at" timestamptz null, "assignee_id" uuid null, "run_id" uuid null, "created_by" varchar(100) not null, "updated_by" varchar(100) not null, "version" int not null default 1, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "cards_company_run_idx" on "cards" ("company_id", "run_id");`);
    this.addSql(`create index "cards_company_assignee_idx" on "cards" ("company_id", "assignee_id");`);
    this.addSql(`create index "cards_company_board_idx" on "cards" ("company_id", "board_id");`);
    this.addSql(
      `create index "cards_company_column_rank_idx" on "cards" ("company_id", "column_id", "rank");`,
    );
    this.addSql(
      `alter table "cards" add constraint "cards_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `alter table "boards" add constraint "boards_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "boards" enable row level security;`);
    this.addSql(`alter table "boards" force row level security;`);
    this.addSql(
      `create policy "boards_tenant_isolation" on "boards" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "board_columns" add constraint "board_columns_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "board_columns" add constraint "board_columns_board_id_foreign" foreign key ("company_id", "board_id") references "boards" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(`alter table "board_columns" enable row level security;`);
    this.addSql(`alter table "board_columns" force row level security;`);
    this.addSql(
      `create policy "board_columns_tenant_isolation" on "board_columns" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "cards" add constraint "cards_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "cards" add constraint "cards_board_id_foreign" foreign key ("company_id", "board_id") references "boards" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(
      `alter table "cards" add constraint "cards_column_id_foreign" foreign key ("company_id", "column_id") references "board_columns" ("company_id", "id");`,
    );
    this.addSql(
      `alter table "cards" add constraint "cards_run_id_foreign" foreign key ("company_id", "run_id") references "runs" ("company_id", "id") on delete no action;`,
    );
    this.addSql(`alter table "cards" enable row level security;`);
    this.addSql(`alter table "cards" force row level security;`);
    this.addSql(
      `create policy "cards_tenant_isolation" on "cards" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "cards" cascade;`);
    this.addSql(`drop table if exists "board_columns" cascade;`);
    this.addSql(`drop table if exists "boards" cascade;`);
  }
}
