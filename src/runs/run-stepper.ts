import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DlpService } from '../dlp/dlp.service.js';
import { withoutNul, scrubNul } from '../common/nul.js';
import { interpolate, type JsonValue, type ToolStep } from '../templates/definition.js';
import type { CallOutcome } from './run-connector-call.js';
import {
  DEFAULT_UNAVAILABLE_RETRY_MS,
  type CallAction,
  type NextAction,
  type RunWorkerHandle,
} from './run-execution.js';
import { RunStep } from './run-step.entity.js';
import { maxAttempts, RunTransitions, stepOutputs } from './run-transitions.js';
import type { Run } from './run.entity.js';

/**
 * Owns a held run's step logic, inside the caller's transaction (which holds the run's row lock and checked the
 * lease): what comes next (cancel, hand back, finish, park, or the next attempt of a tool step), and how one
 * attempt's outcome is recorded on its step and run before the next move is decided.
 */
@Injectable()
export class RunStepper {
  constructor(
    private readonly transitions: RunTransitions,
    private readonly dlp: DlpService,
  ) {}

  /**
   * Decides what comes next for a run this worker holds, inside the caller's transaction: cancel, hand back,
   * finish, park, or start the next attempt of a tool step.
   */
  async decide(tx: EntityManager, run: Run, worker: RunWorkerHandle): Promise<NextAction> {
    if (run.cancelRequestedAt) {
      await this.transitions.cancel(tx, run, { requestedAt: run.cancelRequestedAt.toISOString() });
      return { kind: 'stop' };
    }
    if (worker.stopping) {
      await this.transitions.release(tx, run);
      return { kind: 'stop' };
    }
    const step = this.transitions.currentStep(run);
    if (!step) {
      await this.transitions.succeed(tx, run);
      return { kind: 'stop' };
    }
    if (step.kind === 'approval') {
      await this.transitions.park(tx, run, step);
      return { kind: 'stop' };
    }
    const row =
      (await this.transitions.stepRow(tx, run)) ??
      new RunStep(run.id, run.currentStepIndex, step.id, 'tool', 'running');
    if (row.attempts >= maxAttempts(step)) {
      row.status = 'failed';
      row.finishedAt = new Date();
      await this.transitions.fail(tx, run, this.exhaustedReason(step, row), step.id);
      return { kind: 'stop' };
    }
    row.attempts += 1;
    row.status = 'running';
    row.startedAt ??= new Date();
    tx.persist(row);
    // Committed before the call: a worker that dies during the call leaves this attempt visible, and the
    // recovery marks it interrupted before any retry.
    this.transitions.event(tx, run, 'step.started', step.id, { attempt: row.attempts });
    const input = interpolate(step.input ?? {}, {
      input: run.input,
      steps: await stepOutputs(tx, run.id, step),
    }) as JsonValue;
    return { kind: 'call', step, stepIndex: run.currentStepIndex, attempt: row.attempts, input };
  }

  private exhaustedReason(step: ToolStep, row: RunStep): string {
    const last = row.error ? `: ${row.error.message}` : '';
    return `Step "${step.id}" failed after ${row.attempts} attempt${row.attempts === 1 ? '' : 's'}${last}`;
  }

  /**
   * Records the attempt's outcome on its step and run and decides what follows: the next attempt after a
   * backoff, the next step, or the end.
   */
  async record(
    tx: EntityManager,
    run: Run,
    worker: RunWorkerHandle,
    next: CallAction,
    outcome: CallOutcome,
  ): Promise<NextAction> {
    const stop: NextAction = { kind: 'stop' };
    const row = await this.transitions.stepRow(tx, run, next.stepIndex);
    if (!row || run.currentStepIndex !== next.stepIndex) return stop;
    const { step, attempt } = next;
    const now = new Date();
    if (outcome.kind === 'ok' || outcome.kind === 'error' || outcome.kind === 'fault') {
      // What the call took, on its step, and in the analytics rollups (each recorded call counted once).
      row.lastCallMs = outcome.ms;
      const reason =
        outcome.kind === 'ok' ? null : outcome.kind === 'error' ? outcome.error.reason : 'internal';
      await this.transitions.countCall(tx, step.toolId, outcome.ms, reason);
    }
    if (outcome.kind === 'ok' || outcome.kind === 'dlp_blocked') {
      for (const found of outcome.dlp) {
        await this.dlp.record(tx, found.scope, found, { type: 'Run', id: run.id });
      }
    }
    switch (outcome.kind) {
      case 'ok':
        row.status = 'succeeded';
        // An endpoint's JSON may hold NUL (\u0000), which PostgreSQL stores in no text and no jsonb.
        row.output = scrubNul(outcome.result.output);
        row.error = null;
        row.finishedAt = now;
        run.currentStepIndex += 1;
        this.transitions.event(tx, run, 'step.succeeded', step.id, {
          attempt,
          status: outcome.result.status,
          durationMs: outcome.result.durationMs,
        });
        return this.decide(tx, run, worker);
      case 'dlp_blocked': {
        // Refused by the company's DLP policy: the payload was not sent (connector_request) or the answer is
        // not stored (step_output). Not retryable: the same data would be refused again. The refusal's event
        // commits with the step's failure; it names detectors and field paths, never a value.
        if (outcome.ms !== undefined) {
          row.lastCallMs = outcome.ms;
          await this.transitions.countCall(tx, step.toolId, outcome.ms, null);
        }
        const named = [
          ...new Set(
            outcome.blocked.hits.filter((h) => h.action === 'block').map((h) => `${h.detector} at ${h.path}`),
          ),
        ].join(', ');
        const message = `Refused by the company's DLP policy (${outcome.blocked.scope}): ${named}`;
        row.status = 'failed';
        row.finishedAt = now;
        row.error = { reason: 'dlp_blocked', message };
        this.transitions.event(tx, run, 'step.failed', step.id, {
          attempt,
          reason: 'dlp_blocked',
          message,
          retryable: false,
          willRetry: false,
        });
        await this.dlp.recordBlockedIn(tx, outcome.blocked.scope, outcome.blocked.hits, {
          type: 'Run',
          id: run.id,
        });
        await this.transitions.fail(tx, run, `Step "${step.id}" failed: ${message}`, step.id);
        return stop;
      }
      case 'aborted':
        // Cancelled while the call was in flight: its outcome is unknown, the run ends here.
        await this.transitions.cancel(tx, run, {
          requestedAt: run.cancelRequestedAt?.toISOString() ?? null,
          during: 'call',
        });
        return stop;
      case 'error': {
        const { error } = outcome;
        const message = withoutNul(error.message);
        const willRetry = error.retryable && attempt < maxAttempts(step) && !run.cancelRequestedAt;
        row.error = {
          reason: error.reason,
          message,
          ...(error.status !== undefined ? { status: error.status } : {}),
        };
        this.transitions.event(tx, run, 'step.failed', step.id, {
          attempt,
          reason: error.reason,
          message,
          ...(error.status !== undefined ? { status: error.status } : {}),
          retryable: error.retryable,
          willRetry,
        });
        if (willRetry) {
          row.status = 'retrying';
          return { kind: 'retry', attempt };
        }
        row.status = 'failed';
        row.finishedAt = now;
        const reason =
          error.reason === 'not_bound'
            ? `Tool "${step.toolId}" is not bound to a connector`
            : error.retryable && attempt >= maxAttempts(step)
              ? this.exhaustedReason(step, row)
              : `Step "${step.id}" failed: ${message}`;
        await this.transitions.fail(tx, run, reason, step.id);
        return stop;
      }
      case 'fault':
        row.status = 'failed';
        row.finishedAt = now;
        row.error = { reason: 'internal', message: outcome.message };
        this.transitions.event(tx, run, 'step.failed', step.id, {
          attempt,
          reason: 'internal',
          message: outcome.message,
          retryable: false,
          willRetry: false,
        });
        await this.transitions.fail(tx, run, outcome.message, step.id);
        return stop;
      case 'unavailable':
        // The call never reached the endpoint, so the attempt does not count. The run goes back to the queue
        // (its slot freed) and is tried again later, by whichever worker then holds the right key.
        row.attempts -= 1;
        row.status = 'retrying';
        this.transitions.event(tx, run, 'step.failed', step.id, {
          attempt,
          reason: 'secret_unavailable',
          message: outcome.message,
          retryable: true,
          willRetry: true,
          counted: false,
        });
        await this.transitions.release(tx, run, {
          reason: 'secret_unavailable',
          startAfter: new Date(
            Date.now() + (worker.settings.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS),
          ),
        });
        return stop;
    }
  }
}
