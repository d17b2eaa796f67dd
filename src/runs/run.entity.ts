import type { Opt } from '@mikro-orm/core';
import { Check, Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import type { Role } from '../authz/roles.js';
import { DraftVersion } from '../drafts/draft-version.entity.js';
import type { JsonObject, TemplateDefinition } from '../templates/definition.js';
import type { PrincipalType } from '../tenancy/request-store.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';

export const RUN_STATUSES = [
  'queued',
  'running',
  'parked',
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
] as const;
/**
 * `queued`: waiting for a worker (and for a free slot of the company's `maxConcurrentRuns`) · `running`: a
 * worker holds its lease and executes steps · `parked`: waiting for a verdict on an approval step (holds no
 * slot) · the rest are final.
 */
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'rejected', 'cancelled'];

export const RUN_SOURCES = ['template', 'draft'] as const;
export type RunSource = (typeof RUN_SOURCES)[number];

/**
 * One process run: a snapshot of the template version it started from, its input, where it stands, and who
 * holds it. Steps, events and verdicts live in their own tables.
 *
 * Row-level security admits only the context's company, like every tenant table: the worker that recovers a
 * run whose executor died does so from the run's own job, inside the run's own company (see `RunEngine.process`).
 */
@Entity({ tableName: 'runs' })
@Index({ name: 'runs_company_status_idx', properties: ['companyId', 'status', 'id'] })
@Index({ name: 'runs_company_template_idx', properties: ['companyId', 'templateRefId', 'id'] })
// Only running runs (a handful per company): what the claim counts.
@Index({
  name: 'runs_company_running_lease_idx',
  properties: ['companyId', 'leaseExpiresAt'],
  where: `status = 'running'`,
})
@Check({
  name: 'runs_draft_version_check',
  expression: `source <> 'draft' or draft_version_id is not null`,
})
export class Run extends TenantEntity {
  @Enum({ items: () => RUN_SOURCES, nativeEnumName: undefined })
  source: RunSource;

  /**
   * The catalog template id, or the draft version id, the run started from: the API's `templateId`, what run
   * lists filter on and analytics group by. Catalog templates live in code, so no key can check this column;
   * a draft version is also referenced through `draftVersionId`, which the database checks.
   */
  @Property({ type: 'uuid' })
  templateRefId: string;

  /**
   * The draft version a `draft` run started from (null for a catalog run): a composite key
   * `(company_id, draft_version_id) → draft_versions (company_id, id)`, so a run cannot point at another
   * company's version (wall three). Draft versions are never deleted (only a company purge removes both).
   */
  @ManyToOne(() => DraftVersion, {
    mapToPk: true,
    fieldName: 'draft_version_id',
    nullable: true,
    deleteRule: 'no action',
  })
  draftVersionId: string | null = null;

  @Property({ length: 100 })
  templateKey: string;

  @Property({ type: 'int' })
  templateVersion: number;

  /**
   * The definition's name and step count, copied from it when the run starts: lists show them, and reading them
   * here costs nothing, where extracting them from the `json` snapshot parses the whole document, per row.
   */
  @Property({ type: 'text' })
  templateName: string;

  @Property({ type: 'int' })
  stepCount: number;

  /** The definition as it was when the run started (`json`: key order is the author's). */
  @Property({ type: 'json', columnType: 'json' })
  definition: TemplateDefinition;

  @Property({ type: 'json', columnType: 'json' })
  input: JsonObject;

  @Enum({ items: () => RUN_STATUSES, nativeEnumName: undefined })
  status: Opt<RunStatus> = 'queued';

  /** The step the run executes next (or is parked on); `steps.length` once every step is done. */
  @Property({ type: 'int' })
  currentStepIndex: Opt<number> = 0;

  /** The principal that started the run (user, API key, application). */
  @Property({ length: 100 })
  startedBy: string;

  @Property({ length: 20 })
  startedByType: PrincipalType;

  /** The user behind the principal (an API key's creator): the four-eyes rule and `cancel` own runs use it. */
  @Property({ type: 'uuid', nullable: true })
  startedByUserId: string | null;

  @Property({ length: 63, nullable: true })
  parkedStepId: string | null = null;

  @Property({ type: 'text', nullable: true })
  parkedMinRole: Role | null = null;

  /** The approval prompt with its references resolved. */
  @Property({ type: 'text', nullable: true })
  parkedPrompt: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  parkedSince: Date | null = null;

  @Property({ type: 'text', nullable: true })
  failureReason: string | null = null;

  /** The lease of the claim executing the run, while `running`: `<worker instance>#<claim>`. */
  @Property({ length: 100, nullable: true })
  leaseOwner: string | null = null;

  /** Renewed by the worker while it executes; once past, the run is recovered by another worker. */
  @Property({ type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null = null;

  /** Set by a cancel of a running run: the worker stops before its next step (or attempt) and cancels it. */
  @Property({ type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(input: {
    source: RunSource;
    templateRefId: string;
    templateKey: string;
    templateVersion: number;
    definition: TemplateDefinition;
    input: JsonObject;
    startedBy: string;
    startedByType: PrincipalType;
    startedByUserId: string | null;
  }) {
    super();
    this.source = input.source;
    this.templateRefId = input.templateRefId;
    this.draftVersionId = input.source === 'draft' ? input.templateRefId : null;
    this.templateKey = input.templateKey;
    this.templateVersion = input.templateVersion;
    this.definition = input.definition;
    this.templateName = input.definition.name;
    this.stepCount = input.definition.steps.length;
    this.input = input.input;
    this.startedBy = input.startedBy;
    this.startedByType = input.startedByType;
    this.startedByUserId = input.startedByUserId;
  }

  get isFinal(): boolean {
    return FINAL_RUN_STATUSES.includes(this.status);
  }
}
