import { Migration } from '@mikro-orm/migrations';

/**
 * The hot reads of runs (hand-written; see `ScopedReader` and `RunReads`): one round trip each, scoped twice like
 * everything else. Each function sets `app.company_id` for its own statement, so row-level security applies to
 * what it reads (it runs as the caller, `security invoker`), and filters on its company parameter explicitly.
 * The application passes only the context's company.
 *
 * Frozen text: the functions as they stood when this migration was written. Later migrations replace them by
 * their own copies (run_summary_columns, run_reads_company_setting); this file never changes.
 */
export class Migration20261123030000_run_reads extends Migration {
  override name = 'Migration20261123030000_run_reads';

  override up(): void {
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
    this.addSql(`revoke all on function tenant_runs_page(uuid, uuid, int, text, uuid, text) from public;`);
    this.addSql(
      `grant execute on function tenant_runs_page(uuid, uuid, int, text, uuid, text) to tenantry_app;`,
    );
    this.addSql(`revoke all on function tenant_run(uuid, uuid) from public;`);
    this.addSql(`grant execute on function tenant_run(uuid, uuid) to tenantry_app;`);
  }

  override down(): void {
    this.addSql(`drop function if exists tenant_run(uuid, uuid);`);
    this.addSql(`drop function if exists tenant_runs_page(uuid, uuid, int, text, uuid, text);`);
  }
}
