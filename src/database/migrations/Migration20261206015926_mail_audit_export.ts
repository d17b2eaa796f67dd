import { Migration } from '@mikro-orm/migrations';

const TENANT_POLICY = `using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid)`;

/**
 * Generated, then edited by hand where marked:
 * - `mail_outbox` becomes tenant data (`company_id`, row-level security, ON DELETE CASCADE), so a company purge
 *   removes its recipients, subjects and undelivered bodies. Existing messages are attributed to the company
 *   whose invitation to that address was sent closest to the message; a message no invitation explains
 *   belongs to a company that was purged already and is deleted. The `wake_drainer` trigger and
 *   `companies.mail_due_at` let the drainer find companies with due mail without reading their outbox.
 * - `invitation_resends` is renamed `invitation_sends` (every invitation mail counts against the hourly limit,
 *   not only re-sends); its rows so far are re-sends.
 * - `audit_export_cursors`: the watermark of the scheduled audit export, per company and target.
 */
export class Migration20261206015926_mail_audit_export extends Migration {
  override name = 'Migration20261206015926_mail_audit_export';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "audit_export_cursors" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "target" varchar(500) not null, "exported_seq" bigint not null, "event_seq" bigint not null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "audit_export_cursors" add constraint "audit_export_cursors_company_target_unique" unique ("company_id", "target");`,
    );
    this.addSql(
      `alter table "audit_export_cursors" add constraint "audit_export_cursors_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "audit_export_cursors" enable row level security;`);
    this.addSql(`alter table "audit_export_cursors" force row level security;`);
    this.addSql(
      `create policy "audit_export_cursors_tenant_isolation" on "audit_export_cursors" ${TENANT_POLICY};`,
    );

    // Hand-written: a rename keeps the rows (the generator would create a new table and leave the old one).
    this.addSql(`alter table "invitation_resends" rename to "invitation_sends";`);
    this.addSql(
      `alter table "invitation_sends" rename constraint "invitation_resends_pkey" to "invitation_sends_pkey";`,
    );
    this.addSql(
      `alter table "invitation_sends" rename constraint "invitation_resends_company_id_foreign" to "invitation_sends_company_id_foreign";`,
    );
    this.addSql(
      `alter index "invitation_resends_company_created_idx" rename to "invitation_sends_company_created_idx";`,
    );
    this.addSql(
      `alter policy "invitation_resends_tenant_isolation" on "invitation_sends" rename to "invitation_sends_tenant_isolation";`,
    );
    this.addSql(`alter table "invitation_sends" add "kind" text not null default 'resent';`);
    this.addSql(`alter table "invitation_sends" alter column "kind" drop default;`);
    this.addSql(
      `alter table "invitation_sends" add constraint "invitation_sends_kind_check" check ("kind" in ('created', 'resent'));`,
    );

    this.addSql(`alter table "companies" add "mail_due_at" timestamptz null;`);
    this.addSql(`create index "companies_mail_due_idx" on "companies" ("mail_due_at");`);

    // Hand-written backfill: the column is added nullable, filled, then made NOT NULL. `invitations` forces
    // row-level security even on its owner, so that is lifted for this statement only (same transaction).
    this.addSql(`alter table "mail_outbox" add "company_id" uuid null;`);
    this.addSql(`alter table "invitations" no force row level security;`);
    this.addSql(`update "mail_outbox" m set "company_id" = (
      select i."company_id" from "invitations" i where i."email" = m."recipient"
       order by abs(extract(epoch from (i."last_sent_at" - m."created_at"))), i."id" limit 1);`);
    this.addSql(`alter table "invitations" force row level security;`);
    this.addSql(`delete from "mail_outbox" where "company_id" is null;`);
    this.addSql(`alter table "mail_outbox" alter column "company_id" set not null;`);
    this.addSql(`update "companies" c set "mail_due_at" = d."due"
      from (select "company_id", min("next_attempt_at") as "due" from "mail_outbox"
             where "sent_at" is null and "failed_at" is null group by "company_id") d
     where c."id" = d."company_id";`);

    this.addSql(`drop index "mail_outbox_due_idx";`);
    this.addSql(
      `alter table "mail_outbox" add constraint "mail_outbox_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create index "mail_outbox_company_due_idx" on "mail_outbox" ("company_id", "next_attempt_at");`,
    );
    // The trigger as the generator wrote it from OutboxMessage's `body` (see outbox-message.entity.ts).
    this
      .addSql(`create or replace function "mail_outbox_wake_drainer_fn"() returns trigger as \$\$ begin if new.sent_at is null and new.failed_at is null
  and (tg_op = 'INSERT' or new.next_attempt_at is distinct from old.next_attempt_at) then
  perform 1 from companies where id = new.company_id for no key update;   update companies set mail_due_at = new.next_attempt_at
   where id = new.company_id and (mail_due_at is null or mail_due_at > new.next_attempt_at); end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(
      `create trigger "wake_drainer" AFTER INSERT OR UPDATE on "mail_outbox" for each ROW execute function "mail_outbox_wake_drainer_fn"();`,
    );
    this.addSql(`alter table "mail_outbox" enable row level security;`);
    this.addSql(`alter table "mail_outbox" force row level security;`);
    this.addSql(`create policy "mail_outbox_tenant_isolation" on "mail_outbox" ${TENANT_POLICY};`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop policy "mail_outbox_tenant_isolation" on "mail_outbox";`);
    this.addSql(`alter table "mail_outbox" no force row level security;`);
    this.addSql(`alter table "mail_outbox" disable row level security;`);
    this.addSql(`drop trigger if exists "wake_drainer" on "mail_outbox";`);
    this.addSql(`drop function if exists "mail_outbox_wake_drainer_fn"();`);
    this.addSql(`drop index "mail_outbox_company_due_idx";`);
    this.addSql(`alter table "mail_outbox" drop constraint "mail_outbox_company_id_foreign";`);
    this.addSql(`alter table "mail_outbox" drop column "company_id";`);
    this.addSql(`create index "mail_outbox_due_idx" on "mail_outbox" ("next_attempt_at");`);

    this.addSql(`drop index "companies_mail_due_idx";`);
    this.addSql(`alter table "companies" drop column "mail_due_at";`);

    this.addSql(`alter table "invitation_sends" no force row level security;`);
    this.addSql(`delete from "invitation_sends" where "kind" <> 'resent';`);
    this.addSql(`alter table "invitation_sends" force row level security;`);
    this.addSql(`alter table "invitation_sends" drop constraint "invitation_sends_kind_check";`);
    this.addSql(`alter table "invitation_sends" drop column "kind";`);
    this.addSql(
      `alter policy "invitation_sends_tenant_isolation" on "invitation_sends" rename to "invitation_resends_tenant_isolation";`,
    );
    this.addSql(
      `alter index "invitation_sends_company_created_idx" rename to "invitation_resends_company_created_idx";`,
    );
    this.addSql(
      `alter table "invitation_sends" rename constraint "invitation_sends_company_id_foreign" to "invitation_resends_company_id_foreign";`,
    );
    this.addSql(
      `alter table "invitation_sends" rename constraint "invitation_sends_pkey" to "invitation_resends_pkey";`,
    );
    this.addSql(`alter table "invitation_sends" rename to "invitation_resends";`);

    this.addSql(`drop table "audit_export_cursors";`);
  }
}
