import { Optional, OptionalOrNull } from '../../common/dto/optional.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_SLUG_LENGTH, MAX_TITLE_LENGTH } from '../wiki-page.entity.js';
import { IsId } from '../../common/dto/uuid.js';

/** Lower-case ASCII letters and digits in dash-separated words. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SLUG_MESSAGE = 'must be lower-case letters and digits in dash-separated words (at most 100 characters)';
/** Longest search query accepted (characters); longer ones answer 400. */
export const MAX_QUERY_LENGTH = 10_000;

export class CreateWikiPageDto {
  @ApiProperty({ maxLength: MAX_TITLE_LENGTH, example: 'Onboarding' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_TITLE_LENGTH)
  title: string;

  @ApiProperty({ description: 'Markdown, stored as given; at most 1 MiB of UTF-8', example: '# Welcome' })
  @IsString()
  body: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'A page of the company; absent: top level',
  })
  @OptionalOrNull()
  @IsId({ message: 'parentId must be a UUID' })
  parentId?: string | null;

  @ApiPropertyOptional({
    maxLength: MAX_SLUG_LENGTH,
    pattern: SLUG_PATTERN.source,
    description: 'Unique in the company (409 when taken); derived from the title when absent',
  })
  @Optional()
  @IsString()
  @MaxLength(MAX_SLUG_LENGTH, { message: `slug ${SLUG_MESSAGE}` })
  @Matches(SLUG_PATTERN, { message: `slug ${SLUG_MESSAGE}` })
  slug?: string;
}

/** Any subset; `parentId: null` moves the page to the top level. Requires `If-Match`. */
export class UpdateWikiPageDto {
  @ApiPropertyOptional({ maxLength: MAX_TITLE_LENGTH })
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_TITLE_LENGTH)
  title?: string;

  @ApiPropertyOptional({ description: 'Markdown, stored as given; at most 1 MiB of UTF-8' })
  @Optional()
  @IsString()
  body?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'New parent; `null`: top level',
  })
  @OptionalOrNull()
  @IsId({ message: 'parentId must be a UUID' })
  parentId?: string | null;
}

export class WikiListQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Children of this page; absent: the top-level pages',
  })
  @IsOptional()
  @IsId({ message: 'parentId must be a UUID' })
  parentId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer between 1 and 100' })
  @Min(1, { message: 'limit must be an integer between 1 and 100' })
  @Max(100, { message: 'limit must be an integer between 1 and 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}

export class WikiDeleteQueryDto {
  @ApiPropertyOptional({
    description: 'Also delete every descendant (409 without it when the page has children)',
  })
  @IsOptional()
  @Type(() => String)
  @Matches(/^(true|false)$/, { message: 'cascade must be true or false' })
  cascade?: string;
}

export class WikiSearchQueryDto {
  @ApiPropertyOptional({
    maxLength: MAX_QUERY_LENGTH,
    description:
      'Web-search syntax (`"exact phrase"`, `or`, `-word`); any text is a valid query (operators it cannot parse are read as words; no text matches nothing)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_QUERY_LENGTH, { message: `q must be at most ${MAX_QUERY_LENGTH} characters` })
  q?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer between 1 and 50' })
  @Min(1, { message: 'limit must be an integer between 1 and 50' })
  @Max(50, { message: 'limit must be an integer between 1 and 50' })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class WikiPageSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  title: string;

  @ApiProperty()
  slug: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  parentId: string | null;

  @ApiProperty({ description: 'Counts changes; sent as `ETag: "<version>"`' })
  version: number;

  @ApiProperty({ format: 'uuid', description: 'The newest revision: the page as it stands' })
  revisionId: string;

  @ApiProperty()
  createdBy: string;

  @ApiProperty()
  updatedBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class WikiPageDto extends WikiPageSummaryDto {
  @ApiProperty({ description: 'Markdown, as stored' })
  body: string;
}

export class WikiRevisionSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  pageId: string;

  @ApiProperty({ description: 'The page version this revision is' })
  version: number;

  @ApiProperty()
  title: string;

  @ApiProperty()
  slug: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  parentId: string | null;

  @ApiProperty({ description: 'Who made the change' })
  authorId: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class WikiRevisionDto extends WikiRevisionSummaryDto {
  @ApiProperty({ description: 'Markdown, as it stood after this change' })
  body: string;
}

export class WikiSearchHitDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  title: string;

  @ApiProperty()
  slug: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  parentId: string | null;

  @ApiProperty({ description: 'Relevance (ts_rank_cd, title weighted over body); hits come best first' })
  rank: number;

  @ApiProperty({
    description:
      'Plain text around the matches, each match wrapped in `**…**` (Markdown bold; never HTML: markup of the body is removed)',
  })
  snippet: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}
