import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ROLES, type Role } from '../../authz/roles.js';
import { PageQueryDto } from '../../common/pagination.js';
import { CATEGORIES, STEP_KINDS, type Category, type JsonObject, type StepKind } from '../definition.js';

/** `?category=` and `?q=` (case-insensitive substring of the name) on top of `?limit=` and `?cursor=`. */
export class CatalogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: CATEGORIES, description: 'Only entries of this category' })
  @IsOptional()
  @IsIn(CATEGORIES, { message: `category must be one of ${CATEGORIES.join(', ')}` })
  category?: Category;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the name', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

/**
 * One step of a definition. `tool` steps call the connector bound to `toolId` with `input`; `approval` steps
 * park the run until a member of at least `minRole` gives a verdict. Strings in `input` and `prompt` may hold
 * `{{input.<property>…}}` and `{{steps.<earlier tool step id>.output…}}` references.
 */
export class TemplateStepDto {
  @ApiProperty({
    maxLength: 63,
    pattern: '^[a-z][a-z0-9-]{0,62}$',
    description: 'Unique within the definition',
  })
  id: string;

  @ApiProperty({ enum: STEP_KINDS })
  kind: StepKind;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiPropertyOptional({
    maxLength: 100,
    description: 'tool steps: the tool a connector is bound to, e.g. `erp.vendor.lookup`',
  })
  toolId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'tool steps: the arguments of the call (JSON, may hold references)',
  })
  input?: JsonObject;

  @ApiPropertyOptional({
    format: 'int32',
    type: 'integer',
    minimum: 100,
    maximum: 60_000,
    description: 'tool steps',
  })
  timeoutMs?: number;

  @ApiPropertyOptional({
    format: 'int32',
    type: 'integer',
    minimum: 0,
    maximum: 5,
    description: 'tool steps',
  })
  retries?: number;

  @ApiPropertyOptional({ enum: ROLES, description: 'approval steps: the weakest role allowed to decide' })
  minRole?: Role;

  @ApiPropertyOptional({
    maxLength: 64,
    description: "approval steps: a group's key whose members may decide too, whatever their role",
  })
  approverGroup?: string;

  @ApiPropertyOptional({ maxLength: 1000, description: 'approval steps: shown to the approver' })
  prompt?: string;
}

export class TemplateSummaryDto {
  @ApiProperty({ format: 'uuid', description: 'Stable across deployments' })
  id: string;

  @ApiProperty({ maxLength: 100, example: 'finance.invoice-approval' })
  key: string;

  @ApiProperty({ format: 'int32', maximum: 2_147_483_647, type: 'integer', minimum: 1 })
  version: number;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 2000 })
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  category: Category;

  @ApiProperty({ format: 'int32', minimum: 1, maximum: 50, type: 'integer', description: 'Number of steps' })
  stepCount: number;
}

/** A catalog entry with its whole definition. */
export class TemplateDto extends TemplateSummaryDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema (draft 2020-12, `type: "object"`) of a run input',
  })
  inputSchema: JsonObject;

  @ApiProperty({ maxItems: 50, type: [TemplateStepDto] })
  steps: TemplateStepDto[];
}
