import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { JsonValue, StepKind } from '../templates/definition.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Run } from './run.entity.js';

export const RUN_STEP_STATUSES = [
  'running',
  'retrying',
  'interrupted',
  'succeeded',
  'failed',
  'waiting',
  'approved',
  'rejected',
  'cancelled',
] as const;
/**
 * Tool steps: `running` (an attempt is in flight) → `succeeded` | `retrying` (an attempt failed, another
 * follows after a backoff) | `interrupted` (the worker died during the attempt; the next attempt is a recorded
 * retry) | `failed` | `cancelled`. Approval steps: `waiting` → `approved` | `rejected` | `cancelled`.
 * A step the run has not reached has no row (`pending` in responses).
 */
export type RunStepStatus = (typeof RUN_STEP_STATUSES)[number];

export interface RunStepError {
  reason: string;
  message: string;
  status?: number;
}

/** Where one step of a run stands: one row per step reached, with its attempt count. */
@Entity({ tableName: 'run_steps' })
@Unique({ name: 'run_steps_company_run_step_unique', properties: ['companyId', 'runId', 'stepIndex'] })
export class RunStep extends TenantEntity {
  @ManyToOne(() => Run, { mapToPk: true, fieldName: 'run_id', deleteRule: 'cascade' })
  runId: string;

  @Property({ type: 'int' })
  stepIndex: number;

  @Property({ length: 63 })
  stepId: string;

  @Property({ length: 20 })
  kind: StepKind;

  @Enum({ items: () => RUN_STEP_STATUSES, nativeEnumName: undefined })
  status: RunStepStatus;

  /** Tool steps: attempts started so far (each one a call of the connector, or its interruption). */
  @Property({ type: 'int' })
  attempts: Opt<number> = 0;

  /** Tool steps: the connector's answer (secrets already redacted by the connectors module). */
  @Property({ type: 'json', columnType: 'json', nullable: true })
  output: JsonValue = null;

  /** The last failure of a tool step. */
  @Property({ type: 'json', nullable: true })
  error: RunStepError | null = null;

  /** Tool steps: what the last call of the connector took (ms), as measured by the worker. */
  @Property({ type: 'int', nullable: true })
  lastCallMs: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(runId: string, stepIndex: number, stepId: string, kind: StepKind, status: RunStepStatus) {
    super();
    this.runId = runId;
    this.stepIndex = stepIndex;
    this.stepId = stepId;
    this.kind = kind;
    this.status = status;
  }
}
