import { Migration } from '@mikro-orm/migrations';

export class Migration20261123003806_runs extends Migration {
  override name = 'Migration20261123003806_runs';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "runs" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "source" text not null, "template_ref_id" uuid not null, "template_key" varchar(100) not null, "template_version" int not null, "definition" json not null, "input" json not null, "status" text not null, "current_step_index" int not null, "started_by" varchar(100) not null, "started_by_type" varchar(20) not null, "started_by_user_id" uuid null, "parked_step_id" varchar(63) null, "parked_min_role" text null, "parked_prompt" text null, "parked_since" timestamptz null, "failure_reason" text null, "lease_owner" varchar(100) null, "lease_expires_at" timestamptz null, "cancel_requested_at" timestamptz null, "finished_at" timestamptz null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `create index "runs_company_running_lease_idx" on "runs" ("company_id", "lease_expires_at") where status = 'running';`,
    );
    this.addSql(
      `create index "runs_company_template_idx" on "runs" ("company_id", "template_ref_id", "id");`,
    );
    this.addSql(`create index "runs_company_status_idx" on "runs" ("company_id", "status", "id");`);
    this.addSql(`create index "runs_company_id_idx" on "runs" ("company_id", "id");`);

    this.addSql(
      `create table "run_budget_usage" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "month" varchar(7) not null, "count" int not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "run_budget_usage" add constraint "run_budget_usage_company_month_unique" unique ("company_id", "month");`,
    );

    this.addSql(
      `create table "run_events" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "run_id" uuid not null, "type" varchar(40) not null, "step_id" varchar(63) null, "data" jsonb not null, primary key ("id"));`,
    );
    this.addSql(`create index "run_events_company_run_idx" on "run_events" ("company_id", "run_id", "id");`);

    this.addSql(
      `create table "run_steps" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "run_id" uuid not null, "step_index" int not null, "step_id" varchar(63) not null, "kind" varchar(20) not null, "status" text not null, "attempts" int not null, "output" json null, "error" jsonb null, "started_at" timestamptz null, "finished_at" timestamptz null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_company_run_step_unique" unique ("company_id", "run_id", "step_index");`,
    );

    this.addSql(
      `create table "run_verdicts" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "run_id" uuid not null, "step_id" varchar(63) not null, "decision" text not null, "comment" text null, "given_by" varchar(100) not null, "given_by_user_id" uuid null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_company_run_step_unique" unique ("company_id", "run_id", "step_id");`,
    );

    this.addSql(
      `alter table "runs" add constraint "runs_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "runs" add constraint "runs_source_check" check ("source" in ('template', 'draft'));`,
    );
    this.addSql(
      `alter table "runs" add constraint "runs_status_check" check ("status" in ('queued', 'running', 'parked', 'succeeded', 'failed', 'rejected', 'cancelled'));`,
    );
    this.addSql(`alter table "runs" enable row level security;`);
    this.addSql(`alter table "runs" force row level security;`);
    this.addSql(
      `create policy "runs_tenant_isolation" on "runs" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "run_budget_usage" add constraint "run_budget_usage_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "run_budget_usage" enable row level security;`);
    this.addSql(`alter table "run_budget_usage" force row level security;`);
    this.addSql(
      `create policy "run_budget_usage_tenant_isolation" on "run_budget_usage" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "run_events" add constraint "run_events_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "run_events" add constraint "run_events_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );
    this.addSql(`alter table "run_events" enable row level security;`);
    this.addSql(`alter table "run_events" force row level security;`);
    this.addSql(
      `create policy "run_events_tenant_isolation" on "run_events" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "run_steps" add constraint "run_steps_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_status_check" check ("status" in ('running', 'retrying', 'interrupted', 'succeeded', 'failed', 'waiting', 'approved', 'rejected', 'cancelled'));`,
    );
    this.addSql(`alter table "run_steps" enable row level security;`);
    this.addSql(`alter table "run_steps" force row level security;`);
    this.addSql(
      `create policy "run_steps_tenant_isolation" on "run_steps" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_decision_check" check ("decision" in ('approve', 'reject'));`,
    );
    this.addSql(`alter table "run_verdicts" enable row level security;`);
    this.addSql(`alter table "run_verdicts" force row level security;`);
    this.addSql(
      `create policy "run_verdicts_tenant_isolation" on "run_verdicts" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    // Hand-written: a run's timeline and its verdicts are history, append-only for the application role (a
    // company purge still removes them: referential actions run as the table owner).
    this.addSql(`revoke update, delete, truncate on table "run_events" from tenantry_app;`);
    this.addSql(`revoke update, delete, truncate on table "run_verdicts" from tenantry_app;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "run_events" drop constraint "run_events_run_id_foreign";`);
    this.addSql(`alter table "run_steps" drop constraint "run_steps_run_id_foreign";`);
    this.addSql(`alter table "run_verdicts" drop constraint "run_verdicts_run_id_foreign";`);
  }
}
