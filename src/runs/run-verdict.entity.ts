import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Run } from './run.entity.js';

export const VERDICT_DECISIONS = ['approve', 'reject'] as const;
export type VerdictDecision = (typeof VERDICT_DECISIONS)[number];

/**
 * The verdict on one approval step of a run. The unique constraint makes a second verdict on the same step
 * impossible, whatever the interleaving of concurrent requests.
 */
@Entity({ tableName: 'run_verdicts' })
@Unique({ name: 'run_verdicts_company_run_step_unique', properties: ['companyId', 'runId', 'stepId'] })
export class RunVerdict extends TenantEntity {
  @ManyToOne(() => Run, { mapToPk: true, fieldName: 'run_id', deleteRule: 'cascade' })
  runId: string;

  @Property({ length: 63 })
  stepId: string;

  @Enum({ items: () => VERDICT_DECISIONS, nativeEnumName: undefined })
  decision: VerdictDecision;

  @Property({ type: 'text', nullable: true })
  comment: string | null;

  /** The principal that gave it. */
  @Property({ length: 100 })
  givenBy: string;

  /** The user behind that principal. */
  @Property({ type: 'uuid', nullable: true })
  givenByUserId: string | null;

  constructor(input: {
    runId: string;
    stepId: string;
    decision: VerdictDecision;
    comment: string | null;
    givenBy: string;
    givenByUserId: string | null;
  }) {
    super();
    this.runId = input.runId;
    this.stepId = input.stepId;
    this.decision = input.decision;
    this.comment = input.comment;
    this.givenBy = input.givenBy;
    this.givenByUserId = input.givenByUserId;
  }
}
