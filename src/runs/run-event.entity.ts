import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Run } from './run.entity.js';

export const RUN_EVENT_TYPES = [
  'run.queued',
  'run.running',
  'step.started',
  'step.succeeded',
  'step.failed',
  'step.interrupted',
  'run.retried',
  'run.parked',
  'run.verdict',
  'run.resumed',
  'run.released',
  'run.cancel_requested',
  'run.succeeded',
  'run.failed',
  'run.rejected',
  'run.cancelled',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** One entry of a run's timeline, written in the transaction of the transition it records. */
@Entity({ tableName: 'run_events' })
@Index({ name: 'run_events_company_run_idx', properties: ['companyId', 'runId', 'id'] })
export class RunEvent extends TenantEntity {
  @ManyToOne(() => Run, { mapToPk: true, fieldName: 'run_id', deleteRule: 'cascade' })
  runId: string;

  @Property({ length: 40 })
  type: RunEventType;

  @Property({ length: 63, nullable: true })
  stepId: string | null;

  @Property({ type: 'json' })
  data: Record<string, unknown>;

  constructor(runId: string, type: RunEventType, stepId: string | null, data: Record<string, unknown>) {
    super();
    this.runId = runId;
    this.type = type;
    this.stepId = stepId;
    this.data = data;
  }
}
