import { Migration } from '@mikro-orm/migrations';

/**
 * The run read functions stop setting `app.company_id` from their own company argument: they read the setting the
 * transaction already carries (`ScopedReader` sets it from the tenant context) and return nothing when the argument
 * differs from it or no company is set. Before, a connection without a company (or with another one) that called
 * `tenant_run(<company>, <id>)` got that company's run: both walls were fed from the argument alone.
 *
 * Frozen text: `up` is a copy of `RUN_READ_FUNCTIONS` (src/runs/run-reads.sql.ts) as it stood when this migration
 * was written; `down` restores the functions of migration run_summary_columns (also a copy).
 */
export class Migration20261207030000_run_reads_company_setting extends Migration {
  override name = 'Migration20261207030000_run_reads_company_setting';

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
      -- The company is the transaction's (set by the tenancy layer from the context), never the argument's alone:
      -- a caller whose transaction carries another company, or none, reads nothing.
      if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
        return;
      end if;
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
      -- The company is the transaction's (set by the tenancy layer from the context), never the argument's alone:
      -- a caller whose transaction carries another company, or none, reads nothing.
      if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
        return;
      end if;
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
}
