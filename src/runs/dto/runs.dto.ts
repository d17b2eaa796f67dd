import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ROLES, type Role } from '../../authz/roles.js';
import { JSON_VALUE_SCHEMA } from '../../common/dto/json-value.js';
import { PageQueryDto } from '../../common/pagination.js';
import { STEP_KINDS, type JsonObject, type JsonValue, type StepKind } from '../../templates/definition.js';
import type { PrincipalType } from '../../tenancy/request-store.js';
import { RUN_EVENT_TYPES, type RunEventType } from '../run-event.entity.js';
import { RUN_STEP_STATUSES, type RunStepStatus } from '../run-step.entity.js';
import { VERDICT_DECISIONS, type VerdictDecision } from '../run-verdict.entity.js';
import { RUN_SOURCES, RUN_STATUSES, type RunSource, type RunStatus } from '../run.entity.js';
import { Optional } from '../../common/dto/optional.js';
import { CanonicalIfUuid, IsId } from '../../common/dto/uuid.js';

export const MAX_COMMENT_LENGTH = 2000;

const RUN_INPUT_DOC = {
  type: 'object',
  additionalProperties: true,
  description:
    "The run's input, validated against the template's `inputSchema` (errors name `input.<path>`); default `{}`",
} as const;

/** `POST /v1/runs`: exactly one of `templateId` (catalog) and `draftVersionId` (a published draft version). */
export class StartRunDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'A catalog template (`GET /v1/templates`)' })
  @Optional()
  @IsId({ message: 'templateId must be a UUID' })
  templateId?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'A published version of one of your drafts (`publishedVersionId` of `GET /v1/drafts/{id}`)',
  })
  @Optional()
  @IsId({ message: 'draftVersionId must be a UUID' })
  draftVersionId?: string;

  @ApiPropertyOptional(RUN_INPUT_DOC)
  @Optional()
  @IsObject({ message: 'input must be a JSON object' })
  input?: JsonObject;
}

/** The document's first form of `StartRunDto`: a run of a catalog template. */
export class StartCatalogRunDto {
  @ApiProperty({ format: 'uuid', description: 'A catalog template (`GET /v1/templates`)' })
  templateId: string;

  @ApiPropertyOptional(RUN_INPUT_DOC)
  input?: JsonObject;
}

/** The document's second form of `StartRunDto`: a run of a published draft version. */
export class StartDraftRunDto {
  @ApiProperty({
    format: 'uuid',
    description: 'A published version of one of your drafts (`publishedVersionId` of `GET /v1/drafts/{id}`)',
  })
  draftVersionId: string;

  @ApiPropertyOptional(RUN_INPUT_DOC)
  input?: JsonObject;
}

export class VerdictDto {
  @ApiProperty({ enum: VERDICT_DECISIONS })
  @IsIn(VERDICT_DECISIONS, { message: `decision must be one of ${VERDICT_DECISIONS.join(', ')}` })
  decision: VerdictDecision;

  @ApiPropertyOptional({
    maxLength: MAX_COMMENT_LENGTH,
    description: 'Why; required when rejecting',
  })
  @ValidateIf((o: VerdictDto) => o.decision === 'reject' || o.comment !== undefined)
  @IsString({ message: 'comment must be a string (required when rejecting)' })
  @Matches(/\S/, { message: 'comment must not be blank' })
  @MaxLength(MAX_COMMENT_LENGTH)
  comment?: string;
}

export class CancelRunDto {
  @ApiPropertyOptional({ maxLength: 500, description: 'Why (kept in the timeline and the audit trail)' })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason?: string;
}

export class RunQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: RUN_STATUSES, description: 'Only runs in this status' })
  @Optional()
  @IsIn(RUN_STATUSES, { message: `status must be one of ${RUN_STATUSES.join(', ')}` })
  status?: RunStatus;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only runs started from this catalog template or draft version',
  })
  @Optional()
  @IsId({ message: 'templateId must be a UUID' })
  templateId?: string;

  @ApiPropertyOptional({
    description: 'Only runs started by this principal, or by credentials of this user',
    maxLength: 100,
  })
  @Optional()
  @CanonicalIfUuid()
  @IsString()
  @MaxLength(100)
  startedBy?: string;
}

export class RunStarterDto {
  @ApiProperty({ enum: ['user', 'api_key', 'application', 'platform_admin', 'system'] })
  type: PrincipalType;

  @ApiProperty({ maxLength: 100, description: 'The principal: a user, API key or application id' })
  id: string;

  @ApiProperty({ maxLength: 100, type: String, nullable: true, description: 'The user behind the principal' })
  userId: string | null;
}

export class ParkedStateDto {
  @ApiProperty({ maxLength: 63, description: 'The approval step the run waits on' })
  stepId: string;

  @ApiProperty({ enum: ROLES, description: 'The weakest role that may give the verdict' })
  minRole: Role;

  @ApiProperty({ maxLength: 1000, description: 'The prompt, with its references resolved' })
  prompt: string;

  @ApiProperty({ format: 'date-time' })
  since: string;
}

/** A run as lists show it. */
export class RunSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: RUN_STATUSES })
  status: RunStatus;

  @ApiProperty({ enum: RUN_SOURCES, description: '`template` (catalog) or `draft` (a published version)' })
  source: RunSource;

  @ApiProperty({ format: 'uuid', description: 'The catalog template id or the draft version id' })
  templateId: string;

  @ApiProperty({ maxLength: 100 })
  templateKey: string;

  @ApiProperty({ format: 'int32', minimum: 1, maximum: 2_147_483_647, type: 'integer' })
  templateVersion: number;

  @ApiProperty({ maxLength: 200 })
  templateName: string;

  @ApiProperty({
    format: 'int32',
    minimum: 0,
    maximum: 50,
    type: 'integer',
    description: 'Steps done (or the index of the step it is on)',
  })
  currentStepIndex: number;

  @ApiProperty({ format: 'int32', minimum: 1, maximum: 50, type: 'integer' })
  stepCount: number;

  @ApiProperty({ type: RunStarterDto })
  startedBy: RunStarterDto;

  @ApiProperty({ type: ParkedStateDto, nullable: true, description: 'Set while the run is `parked`' })
  parked: ParkedStateDto | null;

  @ApiProperty({ maxLength: 2000, type: String, nullable: true, description: 'Why a `failed` run failed' })
  failureReason: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  cancelRequestedAt: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;
}

export class RunStepErrorDto {
  @ApiProperty({
    maxLength: 50,
    description:
      '`not_bound`, `refused`, `timeout`, `network`, `http_status`, `response_too_large`, `bad_response`, `internal`',
  })
  reason: string;

  @ApiProperty({ maxLength: 2000 })
  message: string;

  @ApiPropertyOptional({
    format: 'int32',
    minimum: 100,
    maximum: 599,
    type: 'integer',
    description: 'The HTTP status the endpoint answered',
  })
  status?: number;
}

export class RunStepDto {
  @ApiProperty({ format: 'int32', minimum: 0, maximum: 49, type: 'integer' })
  index: number;

  @ApiProperty({ maxLength: 63 })
  id: string;

  @ApiProperty({ enum: STEP_KINDS })
  kind: StepKind;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiPropertyOptional({ maxLength: 100, description: 'tool steps' })
  toolId?: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'approval steps' })
  minRole?: Role;

  @ApiPropertyOptional({
    maxLength: 64,
    description: "approval steps: a group's key whose members may decide too",
  })
  approverGroup?: string;

  @ApiProperty({ enum: ['pending', ...RUN_STEP_STATUSES], description: '`pending`: not reached yet' })
  status: RunStepStatus | 'pending';

  @ApiProperty({
    format: 'int32',
    minimum: 0,
    maximum: 100,
    type: 'integer',
    description: 'tool steps: attempts started',
  })
  attempts: number;

  @ApiProperty({
    nullable: true,
    description: "tool steps: the connector's answer (any JSON)",
    ...JSON_VALUE_SCHEMA,
  })
  output: JsonValue;

  @ApiProperty({ type: RunStepErrorDto, nullable: true, description: 'The last failure' })
  error: RunStepErrorDto | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;
}

export class RunVerdictDto {
  @ApiProperty({ maxLength: 63 })
  stepId: string;

  @ApiProperty({ enum: VERDICT_DECISIONS })
  decision: VerdictDecision;

  @ApiProperty({ maxLength: MAX_COMMENT_LENGTH, type: String, nullable: true })
  comment: string | null;

  @ApiProperty({ maxLength: 100, description: 'The principal that gave it' })
  givenBy: string;

  @ApiProperty({ maxLength: 100, type: String, nullable: true, description: 'The user behind it' })
  givenByUserId: string | null;

  @ApiProperty({ format: 'date-time' })
  givenAt: string;
}

/** One run with its input, every step (reached or not) and its verdicts. */
export class RunDto extends RunSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true })
  input: JsonObject;

  @ApiProperty({ maxItems: 50, type: [RunStepDto] })
  steps: RunStepDto[];

  @ApiProperty({ maxItems: 50, type: [RunVerdictDto] })
  verdicts: RunVerdictDto[];
}

export class RunEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: RUN_EVENT_TYPES })
  type: RunEventType;

  @ApiProperty({ maxLength: 63, type: String, nullable: true })
  stepId: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  data: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  at: string;
}
