import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../audit/audit-actions.js';
import { RunRollups } from '../analytics/run-rollups.js';
import { AuditService } from '../audit/audit.service.js';
import { withoutNul } from '../common/nul.js';
import { Company } from '../companies/company.entity.js';
import {
  interpolate,
  referencedPaths,
  type ApprovalStep,
  type TemplateStep,
} from '../templates/definition.js';
import { RunEvent, type RunEventType } from './run-event.entity.js';
import { RunQueue } from './run-queue.js';
import { RunStep } from './run-step.entity.js';
import type { Run } from './run.entity.js';

/** Retries of a tool step that declares none. */
export const DEFAULT_STEP_RETRIES = 2;
const MAX_PROMPT_CHARS = 4000;

/** Attempts a tool step may make: its first, plus its retries. */
export function maxAttempts(step: TemplateStep): number {
  return step.kind === 'tool' ? (step.retries ?? DEFAULT_STEP_RETRIES) + 1 : 1;
}

/**
 * The outputs of a run's finished tool steps, by step id: what `{{steps.<id>.output…}}` reads (not read at all
 * when `step` refers to none).
 */
export async function stepOutputs(
  tx: EntityManager,
  runId: string,
  step: TemplateStep,
): Promise<Record<string, { output: unknown }>> {
  if (!referencedPaths(step).some((r) => r.parsed?.root === 'steps')) return {};
  await tx.flush(); // a step that just succeeded in this transaction counts
  const done = await tx.find(RunStep, { runId, status: 'succeeded' }, { orderBy: { stepIndex: 'asc' } });
  return Object.fromEntries(done.map((s) => [s.stepId, { output: s.output }]));
}

/**
 * The prompt as stored: text, at most MAX_PROMPT_CHARS, and without NUL (`\u0000`), which a `text` column refuses:
 * a prompt interpolates run input and step outputs, which may hold one (an endpoint's answer; an input stored
 * before the API refused them).
 */
function promptText(value: unknown): string {
  const text = withoutNul(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  return text.length > MAX_PROMPT_CHARS ? `${text.slice(0, MAX_PROMPT_CHARS - 1)}…` : text;
}

/**
 * Every status transition of a run, each writing its timeline event and (for status changes) its audit event in
 * the caller's transaction, which also holds the run's row lock. Shared by the HTTP side (start, verdict,
 * cancel) and the worker (claim, park, finish, recover), so a transition reads the same wherever it happens.
 */
@Injectable()
export class RunTransitions {
  /** The run's company, read once per transaction. */
  private readonly companies = new WeakMap<EntityManager, Company>();
  /** Analytics (src/analytics): counts each transition in the company's rollups, in the same transaction. */
  private readonly rollups = new RunRollups();

  constructor(
    private readonly audit: AuditService,
    private readonly queue: RunQueue,
  ) {}

  /** The run's company (its cap, budget, four-eyes setting), read once per transaction. */
  async company(tx: EntityManager, companyId: string): Promise<Company> {
    let company = this.companies.get(tx);
    if (!company) {
      company = await tx.findOneOrFail(Company, { id: companyId });
      this.companies.set(tx, company);
    }
    return company;
  }

  event(
    tx: EntityManager,
    run: Run,
    type: RunEventType,
    stepId: string | null = null,
    data: Record<string, unknown> = {},
  ): void {
    tx.persist(new RunEvent(run.id, type, stepId, data));
  }

  /**
   * Appends the audit event of a transition (the company is read once per transaction for its settings), then
   * counts it in the analytics rollups; `parkedSince`: when the run parked, if it was parked before this transition.
   */
  async record(
    tx: EntityManager,
    action: AuditAction,
    run: Run,
    metadata: Record<string, unknown> = {},
    parkedSince: Date | null = run.parkedSince,
  ): Promise<void> {
    await this.company(tx, run.companyId);
    await this.audit.record({ action, target: { type: 'Run', id: run.id }, metadata }, tx);
    await this.rollups.onTransition(tx, action, run, parkedSince);
  }

  /** Counts one connector call in the analytics rollups (what it took, its error's reason), in `tx`. */
  async countCall(tx: EntityManager, toolId: string, ms: number, errorReason: string | null): Promise<void> {
    await this.rollups.onConnectorCall(tx, toolId, ms, errorReason);
  }

  /** Sends the run's job in `tx` (grouped by company, tiered by its current cap). */
  async enqueue(tx: EntityManager, run: Run, startAfter?: Date): Promise<void> {
    const company = await this.company(tx, run.companyId);
    await this.queue.enqueue(
      tx,
      { companyId: run.companyId, runId: run.id },
      { cap: company.maxConcurrentRuns, ...(startAfter ? { startAfter } : {}) },
    );
  }

  currentStep(run: Run): TemplateStep | undefined {
    return run.definition.steps[run.currentStepIndex];
  }

  async stepRow(tx: EntityManager, run: Run, index = run.currentStepIndex): Promise<RunStep | null> {
    return tx.findOne(RunStep, { runId: run.id, stepIndex: index });
  }

  /** queued → running, under the company lock (see `RunClaims`), with the claiming worker's lease. */
  async claim(tx: EntityManager, run: Run, lease: string, leaseMs: number): Promise<void> {
    run.status = 'running';
    run.leaseOwner = lease;
    run.leaseExpiresAt = new Date(Date.now() + leaseMs);
    const stepId = this.currentStep(run)?.id ?? null;
    this.event(tx, run, 'run.running', stepId);
    await this.record(tx, 'run.running', run, { stepId });
  }

  /** running → parked on an approval step: holds no slot until a verdict. */
  async park(tx: EntityManager, run: Run, step: ApprovalStep): Promise<void> {
    const scope = { input: run.input, steps: await stepOutputs(tx, run.id, step) };
    const now = new Date();
    const row =
      (await this.stepRow(tx, run)) ??
      new RunStep(run.id, run.currentStepIndex, step.id, 'approval', 'waiting');
    row.status = 'waiting';
    row.startedAt ??= now;
    tx.persist(row);
    run.status = 'parked';
    run.parkedStepId = step.id;
    run.parkedMinRole = step.minRole;
    run.parkedPrompt = promptText(interpolate(step.prompt, scope));
    run.parkedSince = now;
    this.releaseLease(run);
    this.event(tx, run, 'run.parked', step.id, { minRole: step.minRole });
    await this.record(tx, 'run.parked', run, { stepId: step.id, minRole: step.minRole });
  }

  async succeed(tx: EntityManager, run: Run): Promise<void> {
    this.finish(run, 'succeeded');
    this.event(tx, run, 'run.succeeded');
    await this.record(tx, 'run.succeeded', run);
  }

  async fail(tx: EntityManager, run: Run, reason: string, stepId: string | null): Promise<void> {
    this.finish(run, 'failed');
    run.failureReason = reason;
    this.event(tx, run, 'run.failed', stepId, { reason });
    await this.record(tx, 'run.failed', run, { stepId, reason });
  }

  /** Any non-final run → cancelled; the step it stood on (if reached and not done) is cancelled too. */
  async cancel(tx: EntityManager, run: Run, data: Record<string, unknown>): Promise<void> {
    const parkedSince = run.parkedSince;
    const step = this.currentStep(run);
    const row = step ? await this.stepRow(tx, run) : null;
    if (row && ['running', 'retrying', 'interrupted', 'waiting'].includes(row.status)) {
      row.status = 'cancelled';
      row.finishedAt = new Date();
    }
    this.finish(run, 'cancelled');
    this.event(tx, run, 'run.cancelled', step?.id ?? null, data);
    await this.record(tx, 'run.cancelled', run, { stepId: step?.id ?? null, ...data }, parkedSince);
  }

  /**
   * running → queued, with a job for whoever continues: between two steps (a stopping worker), or before a call
   * that cannot be made right now (`reason`, with the job deferred to `startAfter`).
   */
  async release(
    tx: EntityManager,
    run: Run,
    options: { reason?: 'secret_unavailable'; startAfter?: Date } = {},
  ): Promise<void> {
    run.status = 'queued';
    this.releaseLease(run);
    const stepId = this.currentStep(run)?.id ?? null;
    const reason = options.reason ? { reason: options.reason } : {};
    this.event(tx, run, 'run.released', stepId, reason);
    await this.record(tx, 'run.released', run, { stepId, ...reason });
    await this.enqueue(tx, run, options.startAfter);
  }

  /**
   * A `running` run whose lease expired: its worker stopped (crashed, was killed, lost the database). The
   * attempt it was making is marked `interrupted` and the run is queued again, recording the retry, so the
   * attempt that follows (which repeats the call, with the same `Idempotency-Key`) is never an unrecorded
   * repeat. A step that was on its last attempt fails the run instead; a run whose cancellation was requested
   * is cancelled. With `enqueue`, a job is sent for it (a stopping worker handing a run back); a worker recovering the run of the job in
   * its hands claims it right away instead.
   */
  async recover(tx: EntityManager, run: Run, options: { enqueue: boolean }): Promise<void> {
    const step = this.currentStep(run);
    const row = step ? await this.stepRow(tx, run) : null;
    let interruptedAttempt: number | null = null;
    if (row && row.status === 'running') {
      row.status = 'interrupted';
      interruptedAttempt = row.attempts;
      this.event(tx, run, 'step.interrupted', row.stepId, { attempt: row.attempts });
    }
    if (run.cancelRequestedAt) {
      await this.cancel(tx, run, { after: 'interruption' });
      return;
    }
    if (step && row && interruptedAttempt !== null && row.attempts >= maxAttempts(step)) {
      row.status = 'failed';
      row.finishedAt = new Date();
      row.error = {
        reason: 'interrupted',
        message: 'The worker executing the attempt stopped before it finished',
      };
      await this.fail(
        tx,
        run,
        `Step "${step.id}" was interrupted during its last attempt (${row.attempts} of ${maxAttempts(step)}): the worker executing it stopped`,
        step.id,
      );
      return;
    }
    run.status = 'queued';
    this.releaseLease(run);
    const metadata = {
      stepId: step?.id ?? null,
      interruptedAttempt,
      nextAttempt: interruptedAttempt === null ? null : interruptedAttempt + 1,
    };
    this.event(tx, run, 'run.retried', step?.id ?? null, metadata);
    await this.record(tx, 'run.retried', run, metadata);
    if (options.enqueue) await this.enqueue(tx, run);
  }

  private finish(run: Run, status: 'succeeded' | 'failed' | 'rejected' | 'cancelled'): void {
    run.status = status;
    run.finishedAt = new Date();
    this.releaseLease(run);
    this.clearParked(run);
  }

  clearParked(run: Run): void {
    run.parkedStepId = null;
    run.parkedMinRole = null;
    run.parkedPrompt = null;
    run.parkedSince = null;
  }

  private releaseLease(run: Run): void {
    run.leaseOwner = null;
    run.leaseExpiresAt = null;
  }
}
