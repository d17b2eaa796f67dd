import { Migration } from '@mikro-orm/migrations';

export class Migration20261207030759_wall_three extends Migration {
  override name = 'Migration20261207030759_wall_three';

  override up(): void | Promise<void> {
    // Wall three (hand-ordered; the generator's statements, grouped). 1. Every tenant table gets
    // UNIQUE (company_id, id): the key composite references point at, and the key Citus keeps.
    this.addSql(
      `alter table "audit_export_cursors" add constraint "audit_export_cursors_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "audit_events" add constraint "audit_events_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "audit_chain_heads" add constraint "audit_chain_heads_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "applications" add constraint "applications_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "company_keys" add constraint "company_keys_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "connectors" add constraint "connectors_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "drafts" add constraint "drafts_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "idempotency_records" add constraint "idempotency_records_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "invitation_sends" add constraint "invitation_sends_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "mail_outbox" add constraint "mail_outbox_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(`alter table "runs" add constraint "runs_company_id_id_unique" unique ("company_id", "id");`);
    this.addSql(
      `alter table "run_budget_usage" add constraint "run_budget_usage_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "run_events" add constraint "run_events_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_company_id_id_unique" unique ("company_id", "id");`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_company_id_id_unique" unique ("company_id", "id");`,
    );

    // 2. The (company_id, id) indexes those tables already had are now duplicates of the unique constraints.
    this.addSql(`drop index "audit_events_company_id_idx";`);
    this.addSql(`drop index "applications_company_id_idx";`);
    this.addSql(`drop index "api_keys_company_id_idx";`);
    this.addSql(`drop index "connectors_company_id_idx";`);
    this.addSql(`drop index "drafts_company_id_idx";`);
    this.addSql(`drop index "invitations_company_id_idx";`);
    this.addSql(`drop index "runs_company_id_idx";`);
    this.addSql(`drop index "memberships_company_id_id_idx";`);

    // 3. Every foreign key between tenant tables includes the company, same ON DELETE as before. On a live
    // database with many rows, see docs/scaling.md ("Applying wall three in production") for the
    // CONCURRENTLY / NOT VALID variant that keeps lock times short.
    this.addSql(`alter table "draft_versions" drop constraint "draft_versions_draft_id_foreign";`);
    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_draft_id_foreign" foreign key ("company_id", "draft_id") references "drafts" ("company_id", "id");`,
    );
    this.addSql(`alter table "run_events" drop constraint "run_events_run_id_foreign";`);
    this.addSql(
      `alter table "run_events" add constraint "run_events_run_id_foreign" foreign key ("company_id", "run_id") references "runs" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(`alter table "run_steps" drop constraint "run_steps_run_id_foreign";`);
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_run_id_foreign" foreign key ("company_id", "run_id") references "runs" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(`alter table "run_verdicts" drop constraint "run_verdicts_run_id_foreign";`);
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_run_id_foreign" foreign key ("company_id", "run_id") references "runs" ("company_id", "id") on delete cascade;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "draft_versions" drop constraint "draft_versions_draft_id_foreign";`);

    this.addSql(`alter table "run_events" drop constraint "run_events_run_id_foreign";`);

    this.addSql(`alter table "run_steps" drop constraint "run_steps_run_id_foreign";`);

    this.addSql(`alter table "run_verdicts" drop constraint "run_verdicts_run_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_company_id_id_unique";`);
    this.addSql(`create index "api_keys_company_id_idx" on "api_keys" ("company_id", "id");`);

    this.addSql(`alter table "applications" drop constraint "applications_company_id_id_unique";`);
    this.addSql(`create index "applications_company_id_idx" on "applications" ("company_id", "id");`);

    this.addSql(`alter table "audit_chain_heads" drop constraint "audit_chain_heads_company_id_id_unique";`);

    this.addSql(`alter table "audit_events" drop constraint "audit_events_company_id_id_unique";`);
    this.addSql(`create index "audit_events_company_id_idx" on "audit_events" ("company_id", "id");`);

    this.addSql(
      `alter table "audit_export_cursors" drop constraint "audit_export_cursors_company_id_id_unique";`,
    );

    this.addSql(`alter table "company_keys" drop constraint "company_keys_company_id_id_unique";`);

    this.addSql(`alter table "connectors" drop constraint "connectors_company_id_id_unique";`);
    this.addSql(`create index "connectors_company_id_idx" on "connectors" ("company_id", "id");`);

    this.addSql(`alter table "draft_versions" drop constraint "draft_versions_company_id_id_unique";`);
    this.addSql(
      `alter table "draft_versions" add constraint "draft_versions_draft_id_foreign" foreign key ("draft_id") references "drafts" ("id");`,
    );

    this.addSql(`alter table "drafts" drop constraint "drafts_company_id_id_unique";`);
    this.addSql(`create index "drafts_company_id_idx" on "drafts" ("company_id", "id");`);

    this.addSql(
      `alter table "idempotency_records" drop constraint "idempotency_records_company_id_id_unique";`,
    );

    this.addSql(`alter table "invitation_sends" drop constraint "invitation_sends_company_id_id_unique";`);

    this.addSql(`alter table "invitations" drop constraint "invitations_company_id_id_unique";`);
    this.addSql(`create index "invitations_company_id_idx" on "invitations" ("company_id", "id");`);

    this.addSql(`alter table "mail_outbox" drop constraint "mail_outbox_company_id_id_unique";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_company_id_id_unique";`);
    this.addSql(`create index "memberships_company_id_id_idx" on "memberships" ("company_id", "id");`);

    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_company_id_id_unique";`);

    this.addSql(`alter table "run_budget_usage" drop constraint "run_budget_usage_company_id_id_unique";`);

    this.addSql(`alter table "run_events" drop constraint "run_events_company_id_id_unique";`);
    this.addSql(
      `alter table "run_events" add constraint "run_events_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );

    this.addSql(`alter table "run_steps" drop constraint "run_steps_company_id_id_unique";`);
    this.addSql(
      `alter table "run_steps" add constraint "run_steps_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );

    this.addSql(`alter table "run_verdicts" drop constraint "run_verdicts_company_id_id_unique";`);
    this.addSql(
      `alter table "run_verdicts" add constraint "run_verdicts_run_id_foreign" foreign key ("run_id") references "runs" ("id") on delete cascade;`,
    );

    this.addSql(`alter table "runs" drop constraint "runs_company_id_id_unique";`);
    this.addSql(`create index "runs_company_id_idx" on "runs" ("company_id", "id");`);
  }
}
