import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics rollups (src/analytics): per company, per UTC quarter-hour, runs by template and connector calls by
 * tool id, kept as runs change. Tenant tables like any other (row-level security, `UNIQUE (company_id, id)`,
 * indexes leading with `company_id`, purged with the company). `run_steps.last_call_ms`: what the step's last
 * connector call took. Run `npm run cli -- analytics backfill` to build the run rollups of existing runs.
 */
export class Migration20261207033141_analytics_rollups extends Migration {
  override name = 'Migration20261207033141_analytics_rollups';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "analytics_run_rollups" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "bucket" timestamptz not null, "template_ref_id" uuid not null, "source" varchar(20) not null, "template_key" varchar(100) not null, "template_name" text not null, "started" int not null default 0, "succeeded" int not null default 0, "failed" int not null default 0, "rejected" int not null default 0, "cancelled" int not null default 0, "parked_in" int not null default 0, "parked_out" int not null default 0, "duration_hist" int[] not null, "wait_hist" int[] not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `create index "analytics_run_rollups_company_template_bucket_idx" on "analytics_run_rollups" ("company_id", "template_ref_id", "bucket");`,
    );
    this.addSql(
      `alter table "analytics_run_rollups" add constraint "analytics_run_rollups_company_bucket_template_unique" unique ("company_id", "bucket", "template_ref_id");`,
    );
    this.addSql(
      `alter table "analytics_run_rollups" add constraint "analytics_run_rollups_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `create table "analytics_connector_rollups" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "bucket" timestamptz not null, "tool_id" varchar(100) not null, "calls" int not null default 0, "errors" jsonb not null default '{}', "latency_hist" int[] not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "analytics_connector_rollups" add constraint "analytics_connector_rollups_company_bucket_tool_unique" unique ("company_id", "bucket", "tool_id");`,
    );
    this.addSql(
      `alter table "analytics_connector_rollups" add constraint "analytics_connector_rollups_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(`alter table "run_steps" add "last_call_ms" int null;`);

    this.addSql(
      `alter table "analytics_run_rollups" add constraint "analytics_run_rollups_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "analytics_run_rollups" enable row level security;`);
    this.addSql(`alter table "analytics_run_rollups" force row level security;`);
    this.addSql(
      `create policy "analytics_run_rollups_tenant_isolation" on "analytics_run_rollups" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "analytics_connector_rollups" add constraint "analytics_connector_rollups_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "analytics_connector_rollups" enable row level security;`);
    this.addSql(`alter table "analytics_connector_rollups" force row level security;`);
    this.addSql(
      `create policy "analytics_connector_rollups_tenant_isolation" on "analytics_connector_rollups" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "analytics_connector_rollups";`);
    this.addSql(`drop table if exists "analytics_run_rollups";`);
    this.addSql(`alter table "run_steps" drop column "last_call_ms";`);
  }
}
