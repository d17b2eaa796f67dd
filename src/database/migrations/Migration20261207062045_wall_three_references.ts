import { Migration } from '@mikro-orm/migrations';

/**
 * Wall three for the id columns that had no key (issue 14): each becomes a composite foreign key within the
 * company, `(company_id, x_id) REFERENCES x (company_id, id)`.
 *
 * - `runs.template_ref_id` mixes catalog template ids (which live in code: no key can check them) and draft
 *   version ids. The draft side gets its own nullable column, `draft_version_id`, filled from `template_ref_id`
 *   for `draft` runs and required for them by a check; `template_ref_id` stays the API's `templateId`.
 * - `drafts.published_version_id`, `invitation_sends.invitation_id`, `api_keys.rotated_from_id` and
 *   `api_keys.replaced_by_id` get their keys as they are.
 *
 * `idempotency_records.resource_id` stays without a key: it is polymorphic (`resource_type` names the table: a
 * run, an API key, …), and PostgreSQL keys name one table. It is scoped like every tenant row (company_id, the
 * filter, row-level security), and a replay re-reads the resource by id inside the caller's company, so a
 * foreign id reads as missing. The run keys are added NOT VALID and then validated, which checks the existing
 * rows without holding writes off for longer than the check itself.
 */
export class Migration20261207062045_wall_three_references extends Migration {
  override name = 'Migration20261207062045_wall_three_references';

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_rotated_from_id_foreign" foreign key ("company_id", "rotated_from_id") references "api_keys" ("company_id", "id") on delete no action;`,
    );
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_replaced_by_id_foreign" foreign key ("company_id", "replaced_by_id") references "api_keys" ("company_id", "id") on delete no action;`,
    );

    this.addSql(
      `alter table "drafts" add constraint "drafts_published_version_id_foreign" foreign key ("company_id", "published_version_id") references "draft_versions" ("company_id", "id") on delete no action;`,
    );

    this.addSql(
      `alter table "invitation_sends" add constraint "invitation_sends_invitation_id_foreign" foreign key ("company_id", "invitation_id") references "invitations" ("company_id", "id") on delete cascade;`,
    );

    this.addSql(`alter table "runs" add "draft_version_id" uuid null;`);
    this.addSql(`update "runs" set "draft_version_id" = "template_ref_id" where "source" = 'draft';`);
    this.addSql(
      `alter table "runs" add constraint "runs_draft_version_id_foreign" foreign key ("company_id", "draft_version_id") references "draft_versions" ("company_id", "id") on delete no action not valid;`,
    );
    this.addSql(`alter table "runs" validate constraint "runs_draft_version_id_foreign";`);
    this.addSql(
      `alter table "runs" add constraint "runs_draft_version_check" check (source <> 'draft' or draft_version_id is not null) not valid;`,
    );
    this.addSql(`alter table "runs" validate constraint "runs_draft_version_check";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "api_keys" drop constraint "api_keys_rotated_from_id_foreign";`);
    this.addSql(`alter table "api_keys" drop constraint "api_keys_replaced_by_id_foreign";`);

    this.addSql(`alter table "drafts" drop constraint "drafts_published_version_id_foreign";`);

    this.addSql(`alter table "invitation_sends" drop constraint "invitation_sends_invitation_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_draft_version_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_draft_version_check";`);
    this.addSql(`alter table "runs" drop column "draft_version_id";`);
  }
}
