import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { OPERATOR_ACCESS_POLICIES, type OperatorAccessPolicy } from '../company.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const present = (_: object, value: unknown) => value !== undefined;
const presentAndNotNull = (_: object, value: unknown) => value !== undefined && value !== null;

export const RATE_LIMIT_RANGE = { min: 10, max: 100_000 } as const;
export const USER_RATE_LIMIT_RANGE = { min: 1, max: 100_000 } as const;
export const MAX_CONCURRENT_RUNS_RANGE = { min: 1, max: 100 } as const;
export const MONTHLY_RUN_BUDGET_RANGE = { min: 0, max: 10_000_000 } as const;

export class CompanyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 80 })
  slug: string;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Requests per minute for this company; null means the platform default',
  })
  rateLimitPerMinute: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Requests per minute for each person in this company, across their sessions, API keys and applications, on top of the company limit; null means no per-person limit',
  })
  userRateLimitPerMinute: number | null;

  @ApiProperty({ description: 'Runs of this company that may execute at once' })
  maxConcurrentRuns: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Runs that may be started per calendar month (UTC); null means unlimited',
  })
  monthlyRunBudget: number | null;

  @ApiProperty({ description: 'Four-eyes rule: the starter of a run may not approve it' })
  fourEyes: boolean;

  @ApiProperty({
    enum: OPERATOR_ACCESS_POLICIES,
    description:
      'Platform operator switch-ins: `open` (on their reason), `approval` (an admin approves each request), `off` (refused; CLI break-glass only)',
  })
  operatorAccess: OperatorAccessPolicy;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the owner scheduled deletion; null unless scheduled',
  })
  deletionRequestedAt: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the company and all its data will be purged; the owner can restore it until then',
  })
  purgeAfter: string | null;
}

/** Name and settings; send only the fields to change. */
export class UpdateCompanyDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @ValidateIf(present)
  @Transform(trim)
  @IsString()
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: RATE_LIMIT_RANGE.min,
    maximum: RATE_LIMIT_RANGE.max,
    description: 'Requests per minute; null restores the platform default',
  })
  @ValidateIf(presentAndNotNull)
  @IsInt({ message: 'rateLimitPerMinute must be an integer' })
  @Min(RATE_LIMIT_RANGE.min)
  @Max(RATE_LIMIT_RANGE.max)
  rateLimitPerMinute?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: USER_RATE_LIMIT_RANGE.min,
    maximum: USER_RATE_LIMIT_RANGE.max,
    description:
      'Requests per minute for each person (their sessions, API keys and applications); null removes it',
  })
  @ValidateIf(presentAndNotNull)
  @IsInt({ message: 'userRateLimitPerMinute must be an integer' })
  @Min(USER_RATE_LIMIT_RANGE.min)
  @Max(USER_RATE_LIMIT_RANGE.max)
  userRateLimitPerMinute?: number | null;

  @ApiPropertyOptional({ minimum: MAX_CONCURRENT_RUNS_RANGE.min, maximum: MAX_CONCURRENT_RUNS_RANGE.max })
  @ValidateIf(present)
  @IsInt({ message: 'maxConcurrentRuns must be an integer' })
  @Min(MAX_CONCURRENT_RUNS_RANGE.min)
  @Max(MAX_CONCURRENT_RUNS_RANGE.max)
  maxConcurrentRuns?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: MONTHLY_RUN_BUDGET_RANGE.min,
    maximum: MONTHLY_RUN_BUDGET_RANGE.max,
    description: 'Runs per calendar month (UTC); null means unlimited',
  })
  @ValidateIf(presentAndNotNull)
  @IsInt({ message: 'monthlyRunBudget must be an integer' })
  @Min(MONTHLY_RUN_BUDGET_RANGE.min)
  @Max(MONTHLY_RUN_BUDGET_RANGE.max)
  monthlyRunBudget?: number | null;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsBoolean({ message: 'fourEyes must be a boolean' })
  fourEyes?: boolean;

  @ApiPropertyOptional({
    enum: OPERATOR_ACCESS_POLICIES,
    description: 'Platform operator access policy; a switched-in operator cannot change it',
  })
  @ValidateIf(present)
  @IsIn(OPERATOR_ACCESS_POLICIES, {
    message: `operatorAccess must be one of ${OPERATOR_ACCESS_POLICIES.join(', ')}`,
  })
  operatorAccess?: OperatorAccessPolicy;
}
