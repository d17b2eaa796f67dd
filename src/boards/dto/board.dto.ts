import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { IsId } from '../../common/dto/uuid.js';

export const MAX_NAME = 200;
export const MAX_BOARD_DESCRIPTION = 10_000;
export const MAX_COLUMNS = 50;
export const MAX_WIP_LIMIT = 10_000;

export class CreateBoardDto {
  @ApiProperty({ maxLength: MAX_NAME, example: 'Vendor onboarding' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME)
  name: string;

  @ApiPropertyOptional({ maxLength: MAX_BOARD_DESCRIPTION, description: 'Markdown, stored as given' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_BOARD_DESCRIPTION)
  description?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_COLUMNS,
    description: 'Column names, in order; `To do`, `Doing`, `Done` when absent',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_COLUMNS)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(MAX_NAME, { each: true })
  columns?: string[];
}

export class UpdateBoardDto {
  @ApiPropertyOptional({ maxLength: MAX_NAME })
  @ValidateIf((o: UpdateBoardDto) => o.name !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME)
  name?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: MAX_BOARD_DESCRIPTION,
    nullable: true,
    description: 'null clears it',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_BOARD_DESCRIPTION)
  description?: string | null;
}

export class CreateColumnDto {
  @ApiProperty({ maxLength: MAX_NAME, example: 'Review' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME)
  name: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The column to place it after; `null`: first; absent: last',
  })
  @IsOptional()
  @IsId()
  afterColumnId?: string | null;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_WIP_LIMIT, nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_WIP_LIMIT)
  wipLimit?: number | null;
}

export class UpdateColumnDto {
  @ApiPropertyOptional({ maxLength: MAX_NAME })
  @ValidateIf((o: UpdateColumnDto) => o.name !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME)
  name?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Moves the column after this one; `null`: first',
  })
  @IsOptional()
  @IsId()
  afterColumnId?: string | null;

  @ApiPropertyOptional({
    type: Number,
    minimum: 1,
    maximum: MAX_WIP_LIMIT,
    nullable: true,
    description: 'null: no limit',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_WIP_LIMIT)
  wipLimit?: number | null;
}

export class ColumnDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  boardId: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'Fractional key: columns sort by it (bytewise)' })
  rank: string;

  @ApiProperty({ type: Number, nullable: true })
  wipLimit: number | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class BoardDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ type: [ColumnDto], description: 'In board order' })
  columns: ColumnDto[];

  @ApiProperty()
  createdBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}
