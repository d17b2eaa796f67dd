import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { subject } from '@casl/ability';
import { AuditService } from '../audit/audit.service.js';
import { abilityFor } from '../authz/abilities.js';
import { deniedAsNotFound, RowDenied } from '../authz/row-denial.js';
import { roleAtLeast } from '../authz/roles.js';
import { Errors } from '../common/errors/app-error.js';
import { AccessCache } from '../members/access.cache.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { CancelRunDto, RunDto, VerdictDto } from './dto/runs.dto.js';
import { RunTransitions } from './run-transitions.js';
import { RunVerdict } from './run-verdict.entity.js';
import { RunWorker } from './run-worker.js';
import { RunsService } from './runs.service.js';
import { Run } from './run.entity.js';
import { RunErrors } from './runs.errors.js';

/**
 * Human decisions on runs: verdicts on parked runs (manager and up, at least the step's `minRole`, four-eyes)
 * and cancellation (the starter, or a manager and up). Each is one transaction holding the run's row lock, so
 * a verdict, a cancel and the worker never interleave on one run.
 */
@Injectable()
export class RunDecisionsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly transitions: RunTransitions,
    private readonly runs: RunsService,
    private readonly worker: RunWorker,
    private readonly access: AccessCache,
  ) {}

  /**
   * Whether the principal may decide the parked step: its role is at least the step's `minRole`, or the person it
   * acts for (a user, an API key's or an application's creator) belongs to the step's `approverGroup`.
   */
  private async mayDecide(ctx: TenantContext, run: Run): Promise<boolean> {
    if (run.parkedMinRole && roleAtLeast(ctx.role, run.parkedMinRole)) return true;
    const step = run.definition.steps.find((s) => s.id === run.parkedStepId);
    const group = step?.kind === 'approval' ? step.approverGroup : undefined;
    if (!group) return false;
    if (!['user', 'api_key', 'application'].includes(ctx.principalType)) return false;
    const groups =
      ctx.groups ?? (await this.access.memberAccess(ctx.companyId, ctx.actingUserId)).groups.keys;
    return groups.includes(group);
  }

  async verdict(ctx: TenantContext, id: string, dto: VerdictDto): Promise<RunDto> {
    const comment = dto.comment?.trim() || null;
    await deniedAsNotFound(this.audit, 'POST /v1/runs/:id/verdict', () =>
      this.em.transactional(async (tx) => {
        const run = await this.lock(tx, id);
        if (run.status !== 'parked' || !run.parkedStepId || !run.parkedMinRole) {
          throw RunErrors.NotParked(run.status);
        }
        const stepId = run.parkedStepId;
        if (!(await this.mayDecide(ctx, run))) {
          throw new RowDenied('verdict', 'Run', run.id, `the step needs ${run.parkedMinRole} or above`);
        }
        const company = await this.transitions.company(tx, ctx.companyId);
        // The same identity as cancel's: a person through any of their credentials (a session, their API keys,
        // their applications). Runs started before `startedByUserId` covered applications compare their principal.
        const starter = run.startedByUserId ?? run.startedBy;
        const decider = ctx.actingUserId;
        if (dto.decision === 'approve' && company.fourEyes && decider === starter) {
          throw RunErrors.FourEyes();
        }
        try {
          await tx.transactional(async (savepoint) => {
            savepoint.persist(
              new RunVerdict({
                runId: run.id,
                stepId,
                decision: dto.decision,
                comment,
                givenBy: ctx.principalId,
                givenByUserId: ctx.actingUserId,
              }),
            );
            await savepoint.flush();
          });
        } catch (e) {
          if (e instanceof UniqueConstraintViolationException) {
            throw RunErrors.VerdictGiven(stepId);
          }
          throw e;
        }
        const row = await this.transitions.stepRow(tx, run);
        if (row) {
          row.status = dto.decision === 'approve' ? 'approved' : 'rejected';
          row.finishedAt = new Date();
        }
        const by = { by: ctx.principalId, ...(comment ? { comment } : {}) };
        this.transitions.event(tx, run, 'run.verdict', stepId, { decision: dto.decision, ...by });
        await this.transitions.record(tx, 'run.verdict_given', run, { stepId, decision: dto.decision });
        this.transitions.clearParked(run);
        if (dto.decision === 'approve') {
          run.status = 'queued';
          run.currentStepIndex += 1;
          this.transitions.event(tx, run, 'run.resumed', stepId);
          await this.transitions.record(tx, 'run.resumed', run, { stepId });
          await this.transitions.enqueue(tx, run);
        } else {
          run.status = 'rejected';
          run.finishedAt = new Date();
          this.transitions.event(tx, run, 'run.rejected', stepId);
          await this.transitions.record(tx, 'run.rejected', run, { stepId });
        }
      }),
    );
    if (dto.decision === 'approve') this.worker.wake();
    return this.runs.get(id);
  }

  /**
   * Queued and parked runs are cancelled at once; a running one is marked, and its worker cancels it before its
   * next step (an attempt in flight in this process is abandoned at once; elsewhere at the next lease renewal).
   */
  async cancel(ctx: TenantContext, id: string, dto: CancelRunDto): Promise<RunDto> {
    const reason = dto.reason?.trim() || null;
    const running = await deniedAsNotFound(this.audit, 'POST /v1/runs/:id/cancel', () =>
      this.em.transactional(async (tx) => {
        const run = await this.lock(tx, id);
        const starter = run.startedByUserId ?? run.startedBy;
        if (!abilityFor(ctx).can('cancel', subject('Run', { startedBy: starter }))) {
          throw new RowDenied('cancel', 'Run', run.id, 'only the starter or a manager may cancel a run');
        }
        if (run.isFinal) throw RunErrors.AlreadyFinal(run.status);
        const data = { by: ctx.principalId, ...(reason ? { reason } : {}) };
        if (run.status !== 'running') {
          await this.transitions.cancel(tx, run, data);
          return false;
        }
        if (!run.cancelRequestedAt) {
          run.cancelRequestedAt = new Date();
          this.transitions.event(
            tx,
            run,
            'run.cancel_requested',
            this.transitions.currentStep(run)?.id ?? null,
            data,
          );
          await this.transitions.record(tx, 'run.cancel_requested', run, reason ? { reason } : {});
        }
        return true;
      }),
    );
    if (running) this.worker.interrupt(id);
    return this.runs.get(id);
  }

  private async lock(tx: EntityManager, id: string): Promise<Run> {
    const run = await tx.findOne(Run, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (!run) throw Errors.notFound('Run');
    return run;
  }
}
