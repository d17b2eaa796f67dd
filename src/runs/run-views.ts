import type { RunDto, RunEventDto, RunStepDto, RunSummaryDto, RunVerdictDto } from './dto/runs.dto.js';
import type { RunEvent } from './run-event.entity.js';
import type { RunStepError, RunStepStatus } from './run-step.entity.js';
import type { VerdictDecision } from './run-verdict.entity.js';
import type { Run } from './run.entity.js';
import { isoInstant } from '../database/timestamps.js';

/** A point in time as the ORM hydrates it (Date) or as a scoped read returns it (text or a JSON string). */
type Instant = Date | string;

function iso(value: Instant): string;
function iso(value: Instant | null | undefined): string | null;
function iso(value: Instant | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return isoInstant(value);
}

/** What a run's summary is made of: a row of `RunReads` (named like the entity), or the `Run` entity itself. */
export interface RunRecord extends Pick<
  Run,
  | 'id'
  | 'status'
  | 'source'
  | 'templateRefId'
  | 'templateKey'
  | 'templateVersion'
  | 'currentStepIndex'
  | 'startedBy'
  | 'startedByType'
  | 'startedByUserId'
  | 'parkedStepId'
  | 'parkedMinRole'
  | 'parkedPrompt'
  | 'failureReason'
  | 'templateName'
  | 'stepCount'
> {
  parkedSince: Instant | null;
  cancelRequestedAt: Instant | null;
  createdAt: Instant;
  updatedAt: Instant;
  finishedAt: Instant | null;
}

/** A run with what its detail view needs besides the summary. */
export interface RunDetailRecord extends RunRecord, Pick<Run, 'input' | 'definition'> {}

export interface StepRecord {
  stepIndex: number;
  status: RunStepStatus;
  attempts: number;
  output: unknown;
  error: RunStepError | null;
  startedAt: Instant | null;
  finishedAt: Instant | null;
}

export interface VerdictRecord {
  stepId: string;
  decision: VerdictDecision;
  comment: string | null;
  givenBy: string;
  givenByUserId: string | null;
  createdAt: Instant;
}

export function toRunSummary(run: RunRecord): RunSummaryDto {
  return {
    id: run.id,
    status: run.status,
    source: run.source,
    templateId: run.templateRefId,
    templateKey: run.templateKey,
    templateVersion: run.templateVersion,
    templateName: run.templateName,
    currentStepIndex: run.currentStepIndex,
    stepCount: run.stepCount,
    startedBy: { type: run.startedByType, id: run.startedBy, userId: run.startedByUserId },
    parked:
      run.status === 'parked' && run.parkedStepId && run.parkedMinRole && run.parkedSince
        ? {
            stepId: run.parkedStepId,
            minRole: run.parkedMinRole,
            prompt: run.parkedPrompt ?? '',
            since: iso(run.parkedSince),
          }
        : null,
    failureReason: run.failureReason,
    cancelRequestedAt: iso(run.cancelRequestedAt),
    createdAt: iso(run.createdAt),
    updatedAt: iso(run.updatedAt),
    finishedAt: iso(run.finishedAt),
  };
}

export function toRunDto(
  run: RunDetailRecord,
  steps: readonly StepRecord[],
  verdicts: readonly VerdictRecord[],
): RunDto {
  const byIndex = new Map(steps.map((s) => [s.stepIndex, s]));
  return {
    ...toRunSummary(run),
    input: run.input,
    steps: run.definition.steps.map((step, index): RunStepDto => {
      const row = byIndex.get(index);
      return {
        index,
        id: step.id,
        kind: step.kind,
        name: step.name,
        ...(step.kind === 'tool'
          ? { toolId: step.toolId }
          : { minRole: step.minRole, ...(step.approverGroup ? { approverGroup: step.approverGroup } : {}) }),
        status: row?.status ?? 'pending',
        attempts: row?.attempts ?? 0,
        output: (row?.output ?? null) as RunStepDto['output'],
        error: row?.error ?? null,
        startedAt: iso(row?.startedAt),
        finishedAt: iso(row?.finishedAt),
      };
    }),
    verdicts: verdicts.map((v): RunVerdictDto => ({
      stepId: v.stepId,
      decision: v.decision,
      comment: v.comment,
      givenBy: v.givenBy,
      givenByUserId: v.givenByUserId,
      givenAt: iso(v.createdAt),
    })),
  };
}

export function toRunEventDto(event: RunEvent): RunEventDto {
  return {
    id: event.id,
    type: event.type,
    stepId: event.stepId,
    data: event.data,
    at: event.createdAt.toISOString(),
  };
}
