import { Migration } from '@mikro-orm/migrations';

export class Migration20261122235232_company_admin extends Migration {
  override name = 'Migration20261122235232_company_admin';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "invitations" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "email" varchar(320) not null, "role" text not null, "token_hash" text not null, "expires_at" timestamptz not null, "invited_by" uuid not null, "accepted_at" timestamptz null, "accepted_by" uuid null, "revoked_at" timestamptz null, "resend_count" int not null default 0, "last_sent_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "invitations_company_email_idx" on "invitations" ("company_id", "email");`);
    this.addSql(`create index "invitations_company_id_idx" on "invitations" ("company_id", "id");`);

    this.addSql(
      `create table "invitation_resends" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "invitation_id" uuid not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "invitation_resends_company_created_idx" on "invitation_resends" ("company_id", "created_at");`,
    );

    this.addSql(
      `create table "mail_outbox" ("id" uuid not null, "created_at" timestamptz not null default now(), "recipient" varchar(320) not null, "subject" varchar(300) not null, "text" text not null, "html" text null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "sent_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, primary key ("id"));`,
    );
    this.addSql(`create index "mail_outbox_due_idx" on "mail_outbox" ("next_attempt_at");`);

    // The last-owner rule (see LAST_OWNER_TRIGGER_SQL in membership.entity.ts): a deferred constraint trigger,
    // declared through the entity's raw-DDL trigger `expression` because the ORM has no constraint triggers.
    // Reformatted by hand from the generated text; the statement is the same.
    this.addSql(`create or replace function "memberships_last_owner_fn"() returns trigger as \$\$
begin
  if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then return null; end if;
  perform 1 from companies where id = old.company_id for update;
  if not found then return null; end if;
  if not exists (select 1 from memberships m where m.company_id = old.company_id and m.role = 'owner') then
    raise exception 'A company must keep at least one owner: make another member owner (or transfer ownership) first' using errcode = 'TY409';
  end if;
  return null;
end;
\$\$ language plpgsql;`);
    this.addSql(
      `create constraint trigger "last_owner" after update or delete on "memberships" deferrable initially deferred for each row execute function "memberships_last_owner_fn"();`,
    );

    this.addSql(
      `alter table "invitations" add constraint "invitations_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_role_check" check ("role" in ('owner', 'admin', 'manager', 'member'));`,
    );
    this.addSql(`alter table "invitations" enable row level security;`);
    this.addSql(`alter table "invitations" force row level security;`);
    this.addSql(
      `create policy "invitations_tenant_isolation" on "invitations" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    this.addSql(
      `create policy "invitations_by_hash_read" on "invitations" for select using (token_hash = nullif(current_setting('app.credential_hash', true), ''));`,
    );

    this.addSql(
      `alter table "invitation_resends" add constraint "invitation_resends_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "invitation_resends" enable row level security;`);
    this.addSql(`alter table "invitation_resends" force row level security;`);
    this.addSql(
      `create policy "invitation_resends_tenant_isolation" on "invitation_resends" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "last_owner" on "memberships";`);
    this.addSql(`drop function if exists "memberships_last_owner_fn"();`);
  }
}
