import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { IsTimestamp } from '../../common/dto/timestamp.js';
import { PageQueryDto } from '../../common/pagination.js';
import { RUN_STATUSES, type RunStatus } from '../../runs/run.entity.js';
import { IsId } from '../../common/dto/uuid.js';

export const MAX_TITLE = 200;
/** 64 KiB of UTF-8; the character bound here is a first cut, the service checks bytes. */
export const MAX_DESCRIPTION_BYTES = 64 * 1024;
export const MAX_LABELS = 20;
export const MAX_LABEL = 50;

export class CreateCardDto {
  @ApiProperty({ format: 'uuid', description: 'A column of this board' })
  @IsId()
  columnId: string;

  @ApiProperty({ maxLength: MAX_TITLE })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TITLE)
  title: string;

  @ApiPropertyOptional({ description: 'Markdown, stored as given; at most 64 KiB (UTF-8)' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_BYTES)
  description?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A member of the company (user id)' })
  @IsOptional()
  @IsId()
  assigneeId?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LABELS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_LABELS)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(MAX_LABEL, { each: true })
  labels?: string[];

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsTimestamp()
  dueAt?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A run of the company' })
  @IsOptional()
  @IsId()
  runId?: string;
}

/** Any subset of the fields; `null` clears description, assignee, due date and run. Needs `If-Match`. */
export class UpdateCardDto {
  @ApiPropertyOptional({ maxLength: MAX_TITLE })
  @ValidateIf((o: UpdateCardDto) => o.title !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TITLE)
  title?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Markdown, stored as given; at most 64 KiB (UTF-8)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_BYTES)
  description?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true })
  @IsOptional()
  @IsId()
  assigneeId?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LABELS })
  @ValidateIf((o: UpdateCardDto) => o.labels !== undefined)
  @IsArray()
  @ArrayMaxSize(MAX_LABELS)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(MAX_LABEL, { each: true })
  labels?: string[];

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  @IsOptional()
  @IsTimestamp()
  dueAt?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true })
  @IsOptional()
  @IsId()
  runId?: string | null;
}

/** Where the card goes: a column of its board, between two of its cards (neither: the top). Needs `If-Match`. */
export class MoveCardDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  columnId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A card of the target column to place it after' })
  @IsOptional()
  @IsId()
  afterCardId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A card of the target column to place it before' })
  @IsOptional()
  @IsId()
  beforeCardId?: string;
}

export class BoardCardsQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  columnId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  assigneeId?: string;

  @ApiPropertyOptional({ maxLength: MAX_LABEL })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_LABEL)
  label?: string;
}

export class CardQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  boardId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  assigneeId?: string;

  @ApiPropertyOptional({ maxLength: MAX_LABEL })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_LABEL)
  label?: string;
}

export class CardRunDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: RUN_STATUSES, description: "The run's status now" })
  status: RunStatus;
}

export class CardDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  boardId: string;

  @ApiProperty({ format: 'uuid' })
  columnId: string;

  @ApiProperty({ description: 'Fractional key: cards of a column sort by it (bytewise)' })
  rank: string;

  @ApiProperty()
  title: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ type: [String] })
  labels: string[];

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  dueAt: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  assigneeId: string | null;

  @ApiProperty({ type: CardRunDto, nullable: true })
  run: CardRunDto | null;

  @ApiProperty({ description: 'Optimistic-concurrency version; also the ETag' })
  version: number;

  @ApiProperty()
  createdBy: string;

  @ApiProperty()
  updatedBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class CardListDto {
  @ApiProperty({ type: [CardDto], description: 'In board order: column rank, then card rank' })
  data: CardDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Always null: a board answers in one page' })
  nextCursor: string | null;
}
