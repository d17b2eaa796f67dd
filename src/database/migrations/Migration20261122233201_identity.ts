import { Migration } from '@mikro-orm/migrations';

export class Migration20261122233201_identity extends Migration {
  override name = 'Migration20261122233201_identity';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "companies" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(200) not null, "slug" varchar(80) not null, "rate_limit_per_minute" int null, "max_concurrent_runs" int not null default 4, "monthly_run_budget" int null, "four_eyes" boolean not null default true, "updated_at" timestamptz not null default now(), "purge_after" timestamptz null, "deletion_requested_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`alter table "companies" add constraint "companies_slug_unique" unique ("slug");`);
    this.addSql(`create index "companies_purge_after_idx" on "companies" ("purge_after");`);

    this.addSql(
      `create table "audit_events" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "seq" bigint not null, "occurred_at" timestamptz not null, "action" varchar(100) not null, "action_version" smallint not null, "actor_type" varchar(20) not null, "actor_id" varchar(100) not null, "actor_on_behalf_of" uuid null, "target_type" varchar(50) null, "target_id" varchar(100) null, "request_id" varchar(128) null, "ip" varchar(64) null, "user_agent" varchar(512) null, "metadata" jsonb not null, "prev_hash" varchar(64) not null, "hash" varchar(64) not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "audit_events_company_occurred_idx" on "audit_events" ("company_id", "occurred_at");`,
    );
    this.addSql(
      `create index "audit_events_company_target_idx" on "audit_events" ("company_id", "target_type", "target_id", "id");`,
    );
    this.addSql(
      `create index "audit_events_company_actor_idx" on "audit_events" ("company_id", "actor_id", "id");`,
    );
    this.addSql(
      `create index "audit_events_company_action_idx" on "audit_events" ("company_id", "action", "id");`,
    );
    this.addSql(`create index "audit_events_company_id_idx" on "audit_events" ("company_id", "id");`);
    this.addSql(
      `alter table "audit_events" add constraint "audit_events_company_seq_unique" unique ("company_id", "seq");`,
    );
    // Append-only for the application role: no UPDATE or DELETE grant (and the trigger below for everyone).
    this.addSql(`revoke update, delete, truncate on table "audit_events" from tenantry_app;`);

    this.addSql(
      `create table "audit_chain_heads" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "seq" bigint not null default '0', "hash" varchar(64) not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "audit_chain_heads" add constraint "audit_chain_heads_company_unique" unique ("company_id");`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "created_at" timestamptz not null default now(), "email" varchar(320) not null, "name" varchar(200) not null, "password_hash" text not null, "platform_admin" boolean not null default false, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(
      `create table "refresh_tokens" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "user_id" uuid not null, "family_id" uuid not null, "token_hash" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "revoked_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `create index "refresh_tokens_company_family_idx" on "refresh_tokens" ("company_id", "family_id");`,
    );
    this.addSql(
      `create index "refresh_tokens_company_user_idx" on "refresh_tokens" ("company_id", "user_id");`,
    );

    this.addSql(
      `create table "memberships" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "user_id" uuid not null, "role" text not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "memberships_user_idx" on "memberships" ("user_id");`);
    this.addSql(`create index "memberships_company_id_id_idx" on "memberships" ("company_id", "id");`);
    this.addSql(
      `alter table "memberships" add constraint "memberships_company_user_unique" unique ("company_id", "user_id");`,
    );

    this.addSql(
      `alter table "audit_events" add constraint "audit_events_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create or replace function "audit_events_append_only_fn"() returns trigger as \$\$ begin if tg_op = 'DELETE' and not exists (select 1 from companies c where c.id = old.company_id) then return old; end if; raise exception 'audit events are append-only' using errcode = 'TY409'; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "append_only" BEFORE UPDATE OR DELETE on "audit_events" for each ROW execute function "audit_events_append_only_fn"();`,
    );
    this.addSql(`alter table "audit_events" enable row level security;`);
    this.addSql(`alter table "audit_events" force row level security;`);
    this.addSql(
      `create policy "audit_events_tenant_isolation" on "audit_events" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "audit_chain_heads" add constraint "audit_chain_heads_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "audit_chain_heads" enable row level security;`);
    this.addSql(`alter table "audit_chain_heads" force row level security;`);
    this.addSql(
      `create policy "audit_chain_heads_tenant_isolation" on "audit_chain_heads" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(`alter table "refresh_tokens" enable row level security;`);
    this.addSql(`alter table "refresh_tokens" force row level security;`);
    this.addSql(
      `create policy "refresh_tokens_tenant_isolation" on "refresh_tokens" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    this.addSql(
      `create policy "refresh_tokens_by_hash_read" on "refresh_tokens" for select using (token_hash = nullif(current_setting('app.credential_hash', true), ''));`,
    );

    this.addSql(
      `alter table "memberships" add constraint "memberships_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_role_check" check ("role" in ('owner', 'admin', 'manager', 'member'));`,
    );
    this.addSql(`alter table "memberships" enable row level security;`);
    this.addSql(`alter table "memberships" force row level security;`);
    this.addSql(
      `create policy "memberships_tenant_isolation" on "memberships" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    this.addSql(
      `create policy "memberships_own_user_read" on "memberships" for select using (user_id = nullif(current_setting('app.user_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "audit_events" drop constraint "audit_events_company_id_foreign";`);
    this.addSql(`alter table "audit_chain_heads" drop constraint "audit_chain_heads_company_id_foreign";`);
    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_company_id_foreign";`);
    this.addSql(`alter table "memberships" drop constraint "memberships_company_id_foreign";`);
    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_user_id_foreign";`);
    this.addSql(`alter table "memberships" drop constraint "memberships_user_id_foreign";`);
  }
}
