import type { RunDto, RunEventDto, RunStepDto, RunSummaryDto, RunVerdictDto } from './dto/runs.dto.js';
import type { RunEvent } from './run-event.entity.js';
import type { RunStep } from './run-step.entity.js';
import type { RunVerdict } from './run-verdict.entity.js';
import type { Run } from './run.entity.js';

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function toRunSummary(run: Run): RunSummaryDto {
  return {
    id: run.id,
    status: run.status,
    source: run.source,
    templateId: run.templateRefId,
    templateKey: run.templateKey,
    templateVersion: run.templateVersion,
    templateName: run.definition.name,
    currentStepIndex: run.currentStepIndex,
    stepCount: run.definition.steps.length,
    startedBy: { type: run.startedByType, id: run.startedBy, userId: run.startedByUserId },
    parked:
      run.status === 'parked' && run.parkedStepId && run.parkedMinRole && run.parkedSince
        ? {
            stepId: run.parkedStepId,
            minRole: run.parkedMinRole,
            prompt: run.parkedPrompt ?? '',
            since: run.parkedSince.toISOString(),
          }
        : null,
    failureReason: run.failureReason,
    cancelRequestedAt: iso(run.cancelRequestedAt),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
  };
}

export function toRunDto(run: Run, steps: RunStep[], verdicts: RunVerdict[]): RunDto {
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
        ...(step.kind === 'tool' ? { toolId: step.toolId } : { minRole: step.minRole }),
        status: row?.status ?? 'pending',
        attempts: row?.attempts ?? 0,
        output: row?.output ?? null,
        error: row?.error ?? null,
        startedAt: iso(row?.startedAt ?? null),
        finishedAt: iso(row?.finishedAt ?? null),
      };
    }),
    verdicts: verdicts.map((v): RunVerdictDto => ({
      stepId: v.stepId,
      decision: v.decision,
      comment: v.comment,
      givenBy: v.givenBy,
      givenByUserId: v.givenByUserId,
      givenAt: v.createdAt.toISOString(),
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
