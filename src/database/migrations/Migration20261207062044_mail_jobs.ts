import { Migration } from '@mikro-orm/migrations';

/**
 * Mail is delivered by pg-boss (issue 13): one `mail.send` job per outbox message, sent in the transaction that
 * writes the message, retried with pg-boss's backoff. The hand-written drain's lease and schedule go: the
 * outbox's `next_attempt_at` with its index, the `wake_drainer` trigger and the registry's `mail_due_at` marker.
 * The outbox row stays as the transactional record of what to send. Messages still waiting at this point get
 * their jobs from `npm run migrate` (after pg-boss's queues are installed).
 */
export class Migration20261207062044_mail_jobs extends Migration {
  override name = 'Migration20261207062044_mail_jobs';

  override up(): void | Promise<void> {
    this.addSql(`drop index "companies_mail_due_idx";`);
    this.addSql(`alter table "companies" drop column "mail_due_at";`);

    this.addSql(`drop index "mail_outbox_company_due_idx";`);
    this.addSql(`drop trigger if exists "wake_drainer" on "mail_outbox";`);
    this.addSql(`drop function if exists "mail_outbox_wake_drainer_fn"();`);
    this.addSql(`alter table "mail_outbox" drop column "next_attempt_at";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "companies" add "mail_due_at" timestamptz(6) null;`);
    this.addSql(`create index "companies_mail_due_idx" on "companies" ("mail_due_at");`);

    this.addSql(`alter table "mail_outbox" add "next_attempt_at" timestamptz(6) not null default now();`);
    this.addSql(
      `create index "mail_outbox_company_due_idx" on "mail_outbox" ("company_id", "next_attempt_at");`,
    );
    this
      .addSql(`create or replace function "mail_outbox_wake_drainer_fn"() returns trigger as \$\$ begin if new.sent_at is null and new.failed_at is null
  and (tg_op = 'INSERT' or new.next_attempt_at is distinct from old.next_attempt_at) then
  perform 1 from companies where id = new.company_id for no key update;   update companies set mail_due_at = new.next_attempt_at
   where id = new.company_id and (mail_due_at is null or mail_due_at > new.next_attempt_at); end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(
      `create trigger "wake_drainer" AFTER INSERT OR UPDATE on "mail_outbox" for each ROW execute function "mail_outbox_wake_drainer_fn"();`,
    );
  }
}
