import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination.js';
import { CATEGORIES, type Category, type JsonObject } from '../../templates/definition.js';
import { TemplateStepDto } from '../../templates/dto/template.dto.js';
import { DRAFT_STATUSES, type DraftStatus } from '../draft.entity.js';
import { Optional } from '../../common/dto/optional.js';

// Bodies are checked as a whole by the definition validator (`validateDefinition`), which reports every
// error with its dotted path (`steps.2.kind`); `@Allow()` only admits the field. A field the DTO does not
// declare (`id`, `version`, `companyId`, `status`, …) is refused by the validation pipe.

const KEY_DOC = {
  example: 'finance.vendor-check',
  description:
    'Lower-case dotted key, unique in the company, never a catalog key; derived from category and name when absent',
  pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$',
  maxLength: 100,
} as const;
const SCHEMA_DOC = {
  type: 'object',
  additionalProperties: true,
  description: 'JSON Schema (draft 2020-12, `type: "object"`) of a run input',
} as const;

export class CreateDraftDto {
  @ApiPropertyOptional(KEY_DOC)
  @Allow()
  key?: string;

  @ApiProperty({ maxLength: 200 })
  @Allow()
  name: string;

  @ApiProperty({ maxLength: 2000 })
  @Allow()
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  @Allow()
  category: Category;

  @ApiProperty(SCHEMA_DOC)
  @Allow()
  inputSchema: JsonObject;

  @ApiProperty({ type: [TemplateStepDto], minItems: 1, maxItems: 50 })
  @Allow()
  steps: TemplateStepDto[];
}

/** Any subset of the fields; the merged result is validated as a whole. `key` is fixed once published. */
export class UpdateDraftDto {
  @ApiPropertyOptional(KEY_DOC)
  @Allow()
  key?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @Allow()
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Allow()
  description?: string;

  @ApiPropertyOptional({ enum: CATEGORIES })
  @Allow()
  category?: Category;

  @ApiPropertyOptional(SCHEMA_DOC)
  @Allow()
  inputSchema?: JsonObject;

  @ApiPropertyOptional({ type: [TemplateStepDto], minItems: 1, maxItems: 50 })
  @Allow()
  steps?: TemplateStepDto[];
}

export class DraftQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DRAFT_STATUSES })
  @Optional()
  @IsIn(DRAFT_STATUSES, { message: `status must be one of ${DRAFT_STATUSES.join(', ')}` })
  status?: DraftStatus;

  @ApiPropertyOptional({ enum: CATEGORIES })
  @Optional()
  @IsIn(CATEGORIES, { message: `category must be one of ${CATEGORIES.join(', ')}` })
  category?: Category;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the name', maxLength: 200 })
  @Optional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class DraftSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 100, example: 'finance.vendor-check' })
  key: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 2000 })
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  category: Category;

  @ApiProperty({
    enum: DRAFT_STATUSES,
    description:
      '`draft`: never published · `published`: its versions can start runs · `unpublished`: they cannot',
  })
  status: DraftStatus;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 1,
    maximum: 2_147_483_647,
    description:
      'Version number of the working copy: the last published version, or the next one once edited since',
  })
  version: number;

  @ApiProperty({ description: 'Whether the working copy differs from the last published version' })
  hasUnpublishedChanges: boolean;

  @ApiProperty({
    minimum: 1,
    format: 'int32',
    maximum: 2_147_483_647,
    type: 'integer',
    nullable: true,
    description: 'The last published version number',
  })
  publishedVersion: number | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Id of the last published version (what a run starts from)',
  })
  publishedVersionId: string | null;

  @ApiProperty({ maxLength: 100, description: 'The principal (user) that created the draft' })
  createdBy: string;

  @ApiProperty({ maxLength: 100 })
  updatedBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

/** A draft with its working copy's whole definition. */
export class DraftDto extends DraftSummaryDto {
  @ApiProperty(SCHEMA_DOC)
  inputSchema: JsonObject;

  @ApiProperty({ maxItems: 50, type: [TemplateStepDto] })
  steps: TemplateStepDto[];
}

/** A whole template definition, as published. */
export class TemplateDefinitionDto {
  @ApiProperty({ maxLength: 100 })
  key: string;

  @ApiProperty({ format: 'int32', maximum: 2_147_483_647, type: 'integer', minimum: 1 })
  version: number;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 2000 })
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  category: Category;

  @ApiProperty(SCHEMA_DOC)
  inputSchema: JsonObject;

  @ApiProperty({ maxItems: 50, type: [TemplateStepDto] })
  steps: TemplateStepDto[];
}

export class DraftVersionSummaryDto {
  @ApiProperty({ format: 'uuid', description: 'The id a run starts from (`draftVersionId`)' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  draftId: string;

  @ApiProperty({ format: 'int32', maximum: 2_147_483_647, type: 'integer', minimum: 1 })
  version: number;

  @ApiProperty({ maxLength: 100 })
  key: string;

  @ApiProperty({ maxLength: 100 })
  publishedBy: string;

  @ApiProperty({ format: 'date-time' })
  publishedAt: string;
}

/** An immutable published version with its definition snapshot. */
export class DraftVersionDto extends DraftVersionSummaryDto {
  @ApiProperty({ type: TemplateDefinitionDto })
  definition: TemplateDefinitionDto;
}
