import { Migration } from '@mikro-orm/migrations';

/**
 * A run's template name and step count as columns of their own. The list of runs showed both by extracting them
 * from the `json` definition snapshot, which PostgreSQL parses whole for every row: most of the cost of a page
 * (docs/benchmarks.md). Existing runs are backfilled from their snapshot (one pass over the table, in this
 * migration's transaction); the read functions of migration `run_reads` are replaced to read the columns. Their
 * signatures and row shapes are unchanged.
 *
 * Frozen text: `up` carries the functions as they stood when this migration was written, `down` the functions of
 * migration run_reads (a copy, not an import: migrations never import code).
 */
export class Migration20261206030019_run_summary_columns extends Migration {
  override name = 'Migration20261206030019_run_summary_columns';

  override up(): void {
    this.addSql(`alter table "runs" add "template_name" text null, add "step_count" int null;`);
    this.addSql(
      `update "runs" set "template_name" = "definition"->>'name',
      "step_count" = json_array_length("definition"->'steps');`,
    );
    this.addSql(
      `alter table "runs" alter column "template_name" set not null,
      alter column "step_count" set not null;`,
    );
    this.addSql(
      `create or replace function tenant_runs_page(p_company uuid, p_before uuid, p_limit int,
      p_status text, p_template uuid, p_started_by text)
    returns table (id uuid, status text, source text, "templateRefId" uuid, "templateKey" text,
  "templateVersion" int, "templateName" text, "stepCount" int, "currentStepIndex" int, "startedBy" text,
  "startedByType" text, "startedByUserId" uuid, "parkedStepId" text, "parkedMinRole" text, "parkedPrompt" text,
  "parkedSince" timestamptz, "failureReason" text, "cancelRequestedAt" timestamptz, "createdAt" timestamptz,
  "updatedAt" timestamptz, "finishedAt" timestamptz)
    language plpgsql security invoker as $fn$
    #variable_conflict use_column
    begin
      perform set_config('app.company_id', p_company::text, true);
      if p_status is null and p_template is null and p_started_by is null then
        if p_before is null then
          return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  r.template_name, r.step_count, r.current_step_index, r.started_by::text, r.started_by_type::text,
  r.started_by_user_id, r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since,
  r.failure_reason, r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r
            where r.company_id = p_company order by r.id desc limit p_limit;
        else
          return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  r.template_name, r.step_count, r.current_step_index, r.started_by::text, r.started_by_type::text,
  r.started_by_user_id, r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since,
  r.failure_reason, r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r
            where r.company_id = p_company and r.id < p_before order by r.id desc limit p_limit;
        end if;
      else
        return query execute
          'select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  r.template_name, r.step_count, r.current_step_index, r.started_by::text, r.started_by_type::text,
  r.started_by_user_id, r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since,
  r.failure_reason, r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r where r.company_id = $1'
          || case when p_before is null then '' else ' and r.id < $2' end
          || case when p_status is null then '' else ' and r.status = $4' end
          || case when p_template is null then '' else ' and r.template_ref_id = $5' end
          || case when p_started_by is null then ''
                  else ' and (r.started_by = $6 or r.started_by_user_id::text = $6)' end
          || ' order by r.id desc limit $3'
          using p_company, p_before, p_limit, p_status, p_template, p_started_by;
      end if;
    end $fn$;`,
    );
    this.addSql(
      `create or replace function tenant_run(p_company uuid, p_id uuid)
    returns table (id uuid, status text, source text, "templateRefId" uuid, "templateKey" text,
  "templateVersion" int, "templateName" text, "stepCount" int, "currentStepIndex" int, "startedBy" text,
  "startedByType" text, "startedByUserId" uuid, "parkedStepId" text, "parkedMinRole" text, "parkedPrompt" text,
  "parkedSince" timestamptz, "failureReason" text, "cancelRequestedAt" timestamptz, "createdAt" timestamptz,
  "updatedAt" timestamptz, "finishedAt" timestamptz, input json, definition json, steps json, verdicts json)
    language plpgsql security invoker as $fn$
    #variable_conflict use_column
    begin
      perform set_config('app.company_id', p_company::text, true);
      return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  r.template_name, r.step_count, r.current_step_index, r.started_by::text, r.started_by_type::text,
  r.started_by_user_id, r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since,
  r.failure_reason, r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at, r.input, r.definition,
        (select coalesce(json_agg(json_build_object(
            'stepIndex', s.step_index, 'status', s.status, 'attempts', s.attempts, 'output', s.output,
            'error', s.error, 'startedAt', s.started_at, 'finishedAt', s.finished_at) order by s.step_index), '[]')
           from run_steps s where s.company_id = p_company and s.run_id = r.id),
        (select coalesce(json_agg(json_build_object(
            'stepId', v.step_id, 'decision', v.decision, 'comment', v.comment, 'givenBy', v.given_by,
            'givenByUserId', v.given_by_user_id, 'createdAt', v.created_at) order by v.id), '[]')
           from run_verdicts v where v.company_id = p_company and v.run_id = r.id)
        from runs r where r.company_id = p_company and r.id = p_id;
    end $fn$;`,
    );
  }

  override down(): void {
    // Back to the functions of migration run_reads, which read both from the definition.
    this.addSql(
      `create or replace function tenant_runs_page(p_company uuid, p_before uuid, p_limit int,
      p_status text, p_template uuid, p_started_by text)
    returns table (id uuid, status text, source text, "templateRefId" uuid, "templateKey" text,
  "templateVersion" int, "templateName" text, "stepCount" int, "currentStepIndex" int, "startedBy" text,
  "startedByType" text, "startedByUserId" uuid, "parkedStepId" text, "parkedMinRole" text, "parkedPrompt" text,
  "parkedSince" timestamptz, "failureReason" text, "cancelRequestedAt" timestamptz, "createdAt" timestamptz,
  "updatedAt" timestamptz, "finishedAt" timestamptz)
    language plpgsql security invoker as $fn$
    #variable_conflict use_column
    begin
      perform set_config('app.company_id', p_company::text, true);
      if p_status is null and p_template is null and p_started_by is null then
        if p_before is null then
          return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  (r.definition->>'name') as template_name, json_array_length(r.definition->'steps') as step_count,
  r.current_step_index, r.started_by::text, r.started_by_type::text, r.started_by_user_id,
  r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since, r.failure_reason,
  r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r
            where r.company_id = p_company order by r.id desc limit p_limit;
        else
          return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  (r.definition->>'name') as template_name, json_array_length(r.definition->'steps') as step_count,
  r.current_step_index, r.started_by::text, r.started_by_type::text, r.started_by_user_id,
  r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since, r.failure_reason,
  r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r
            where r.company_id = p_company and r.id < p_before order by r.id desc limit p_limit;
        end if;
      else
        return query execute
          'select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  (r.definition->>''name'') as template_name, json_array_length(r.definition->''steps'') as step_count,
  r.current_step_index, r.started_by::text, r.started_by_type::text, r.started_by_user_id,
  r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since, r.failure_reason,
  r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at from runs r where r.company_id = $1'
          || case when p_before is null then '' else ' and r.id < $2' end
          || case when p_status is null then '' else ' and r.status = $4' end
          || case when p_template is null then '' else ' and r.template_ref_id = $5' end
          || case when p_started_by is null then ''
                  else ' and (r.started_by = $6 or r.started_by_user_id::text = $6)' end
          || ' order by r.id desc limit $3'
          using p_company, p_before, p_limit, p_status, p_template, p_started_by;
      end if;
    end $fn$;`,
    );
    this.addSql(
      `create or replace function tenant_run(p_company uuid, p_id uuid)
    returns table (id uuid, status text, source text, "templateRefId" uuid, "templateKey" text,
  "templateVersion" int, "templateName" text, "stepCount" int, "currentStepIndex" int, "startedBy" text,
  "startedByType" text, "startedByUserId" uuid, "parkedStepId" text, "parkedMinRole" text, "parkedPrompt" text,
  "parkedSince" timestamptz, "failureReason" text, "cancelRequestedAt" timestamptz, "createdAt" timestamptz,
  "updatedAt" timestamptz, "finishedAt" timestamptz, input json, definition json, steps json, verdicts json)
    language plpgsql security invoker as $fn$
    #variable_conflict use_column
    begin
      perform set_config('app.company_id', p_company::text, true);
      return query select r.id, r.status, r.source, r.template_ref_id, r.template_key::text, r.template_version,
  (r.definition->>'name') as template_name, json_array_length(r.definition->'steps') as step_count,
  r.current_step_index, r.started_by::text, r.started_by_type::text, r.started_by_user_id,
  r.parked_step_id::text, r.parked_min_role, r.parked_prompt, r.parked_since, r.failure_reason,
  r.cancel_requested_at, r.created_at, r.updated_at, r.finished_at, r.input, r.definition,
        (select coalesce(json_agg(json_build_object(
            'stepIndex', s.step_index, 'status', s.status, 'attempts', s.attempts, 'output', s.output,
            'error', s.error, 'startedAt', s.started_at, 'finishedAt', s.finished_at) order by s.step_index), '[]')
           from run_steps s where s.company_id = p_company and s.run_id = r.id),
        (select coalesce(json_agg(json_build_object(
            'stepId', v.step_id, 'decision', v.decision, 'comment', v.comment, 'givenBy', v.given_by,
            'givenByUserId', v.given_by_user_id, 'createdAt', v.created_at) order by v.id), '[]')
           from run_verdicts v where v.company_id = p_company and v.run_id = r.id)
        from runs r where r.company_id = p_company and r.id = p_id;
    end $fn$;`,
    );
    this.addSql(`alter table "runs" drop column "template_name", drop column "step_count";`);
  }
}
