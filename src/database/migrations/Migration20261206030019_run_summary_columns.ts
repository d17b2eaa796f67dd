import { Migration } from '@mikro-orm/migrations';
import { Migration20261123030000_run_reads, runReadFunctions } from './Migration20261123030000_run_reads.js';

/** The summary columns of a run (alias `r`), named like the `Run` entity's properties, as the read functions return them. */
const SUMMARY = `r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  r.template_name, r.step_count, r.current_step_index, r.started_by::text, r.started_by_type::text,
  r.started_by_user_id, r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since,
  r.failure_reason, r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at`;

const SUMMARY_TYPES = `id uuid, status text, source text, "templateRefId" uuid, "templateKey" text,
  "templateVersion" int, "templateName" text, "stepCount" int, "currentStepIndex" int, "startedBy" text,
  "startedByType" text, "startedByUserId" uuid, "parkedStepId" text, "parkedMinRole" text, "parkedPrompt" text,
  "parkedSince" timestamptz, "failureReason" text, "cancelRequestedAt" timestamptz, "createdAt" timestamptz,
  "updatedAt" timestamptz, "finishedAt" timestamptz`;

/**
 * A run's template name and step count as columns of their own. The list of runs showed both by extracting them
 * from the `json` definition snapshot, which PostgreSQL parses whole for every row: most of the cost of a page
 * (docs/benchmarks.md). Existing runs are backfilled from their snapshot (one pass over the table, in this
 * migration's transaction); the read functions of migration `run_reads` are replaced to read the columns. Their
 * signatures and row shapes are unchanged.
 */
export class Migration20261206030019_run_summary_columns extends Migration {
  override name = 'Migration20261206030019_run_summary_columns';

  override up(): void {
    this.addSql(`alter table "runs" add "template_name" text null, add "step_count" int null;`);
    this.addSql(`update "runs" set "template_name" = "definition"->>'name',
      "step_count" = json_array_length("definition"->'steps');`);
    this.addSql(`alter table "runs" alter column "template_name" set not null,
      alter column "step_count" set not null;`);

    for (const sql of runReadFunctions(SUMMARY, SUMMARY_TYPES)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    // Back to the functions of migration run_reads, which read both from the definition.
    const previous = new Migration20261123030000_run_reads(this.driver, this.config);
    await previous.up();
    for (const query of previous.getQueries()) this.addSql(query);
    this.addSql(`alter table "runs" drop column "template_name", drop column "step_count";`);
  }
}
