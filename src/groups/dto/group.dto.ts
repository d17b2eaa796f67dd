import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Optional, OptionalOrNull } from '../../common/dto/optional.js';

export const MAX_GROUP_NAME = 200;
export const MAX_GROUP_DESCRIPTION = 2_000;
export const MAX_GROUP_PERMISSIONS = 200;
export const GROUP_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$/;

export class CreateGroupDto {
  @ApiProperty({
    maxLength: 64,
    pattern: GROUP_KEY_PATTERN.source,
    example: 'finance-approvers',
    description: 'Unique in the company; lowercase letters, digits and dashes',
  })
  @IsString()
  @Matches(GROUP_KEY_PATTERN, { message: 'key must be lowercase letters, digits and dashes (1 to 64)' })
  key: string;

  @ApiProperty({ maxLength: MAX_GROUP_NAME, example: 'Finance approvers' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_GROUP_NAME)
  name: string;

  @ApiPropertyOptional({ type: String, maxLength: MAX_GROUP_DESCRIPTION, nullable: true })
  @OptionalOrNull()
  @IsString()
  @MaxLength(MAX_GROUP_DESCRIPTION)
  description?: string | null;

  @ApiProperty({ type: [String], maxItems: MAX_GROUP_PERMISSIONS, example: ['runs:verdict'] })
  @IsArray()
  @ArrayMaxSize(MAX_GROUP_PERMISSIONS)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions: string[];
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ maxLength: 64, pattern: GROUP_KEY_PATTERN.source })
  @Optional()
  @IsString()
  @Matches(GROUP_KEY_PATTERN, { message: 'key must be lowercase letters, digits and dashes (1 to 64)' })
  key?: string;

  @ApiPropertyOptional({ maxLength: MAX_GROUP_NAME })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_GROUP_NAME)
  name?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: MAX_GROUP_DESCRIPTION,
    nullable: true,
    description: 'null clears it',
  })
  @OptionalOrNull()
  @IsString()
  @MaxLength(MAX_GROUP_DESCRIPTION)
  description?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_GROUP_PERMISSIONS, description: 'The whole new list' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_GROUP_PERMISSIONS)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions?: string[];
}

export class GroupDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 64 })
  key: string;

  @ApiProperty({ maxLength: MAX_GROUP_NAME })
  name: string;

  @ApiProperty({ type: String, nullable: true, maxLength: MAX_GROUP_DESCRIPTION })
  description: string | null;

  @ApiProperty({ type: [String], maxItems: MAX_GROUP_PERMISSIONS })
  permissions: string[];

  @ApiProperty({ maxLength: 100 })
  createdBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class GroupMemberDto {
  @ApiProperty({ format: 'uuid' })
  groupId: string;

  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ maxLength: 100 })
  addedBy: string;

  @ApiProperty({ format: 'date-time' })
  addedAt: string;
}
