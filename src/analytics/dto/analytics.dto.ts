import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsId } from '../../common/dto/uuid.js';

export const ANALYTICS_INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type AnalyticsInterval = (typeof ANALYTICS_INTERVALS)[number];

/** `from`/`to` of every analytics read: default the last 30 days; at most 400 days apart. */
export class AnalyticsRangeQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Start of the range (ISO 8601); default `to` − 30 days. Series start at the bucket holding it',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'End of the range (ISO 8601, exclusive); default now. At most 400 days after `from`',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

export class AnalyticsRunsQueryDto extends AnalyticsRangeQueryDto {
  @ApiPropertyOptional({ enum: ANALYTICS_INTERVALS, default: 'day' })
  @IsOptional()
  @IsIn(ANALYTICS_INTERVALS, { message: `interval must be one of ${ANALYTICS_INTERVALS.join(', ')}` })
  interval?: AnalyticsInterval;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Only runs of this catalog template id or draft version id (`templateId` of the templates read)',
  })
  @IsOptional()
  @IsId({ message: 'templateId must be a UUID' })
  templateId?: string;

  @ApiPropertyOptional({
    example: 'Europe/Berlin',
    default: 'UTC',
    description: 'IANA time zone deciding bucket edges (daylight-saving days are 23 or 25 hours long)',
  })
  @IsOptional()
  @IsString({ message: 'timezone must be an IANA time zone name' })
  @MaxLength(64, { message: 'timezone must be an IANA time zone name' })
  timezone?: string;
}

export class PercentilesDto {
  @ApiProperty({ type: 'integer', nullable: true, description: 'Median (ms); null without data' })
  p50: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: '95th percentile (ms); null without data' })
  p95: number | null;
}

export class RunBucketDto {
  @ApiProperty({
    format: 'date-time',
    description: "The bucket's start (its local start in `timezone`, as UTC)",
  })
  start: string;

  @ApiProperty({ type: 'integer', description: 'Runs started in the bucket' })
  started: number;

  @ApiProperty({ type: 'integer', description: 'Runs that succeeded in the bucket' })
  succeeded: number;

  @ApiProperty({ type: 'integer' })
  failed: number;

  @ApiProperty({ type: 'integer' })
  rejected: number;

  @ApiProperty({ type: 'integer' })
  cancelled: number;

  @ApiProperty({ type: 'integer', description: "Runs parked on an approval step at the bucket's end" })
  parked: number;

  @ApiProperty({
    type: PercentilesDto,
    description: 'Start-to-end durations of the runs that ended in the bucket',
  })
  durationMs: PercentilesDto;

  @ApiProperty({
    type: PercentilesDto,
    description: 'Park-to-verdict waits of the verdicts given in the bucket',
  })
  approvalWaitMs: PercentilesDto;
}

export class RunSeriesDto {
  @ApiProperty({ enum: ANALYTICS_INTERVALS })
  interval: AnalyticsInterval;

  @ApiProperty({ example: 'UTC' })
  timezone: string;

  @ApiProperty({
    type: [RunBucketDto],
    description: 'Every bucket of the range, oldest first (zeros included)',
  })
  buckets: RunBucketDto[];
}

export class TemplateStatsDto {
  @ApiProperty({ format: 'uuid', description: 'The catalog template id, or the draft version id' })
  templateId: string;

  @ApiProperty({ enum: ['template', 'draft'] })
  source: string;

  @ApiProperty()
  templateKey: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ type: 'integer', description: 'Runs started in the range' })
  runs: number;

  @ApiProperty({ type: 'integer', description: 'Runs that ended in the range (any outcome)' })
  finished: number;

  @ApiProperty({ type: 'integer' })
  succeeded: number;

  @ApiProperty({
    type: 'number',
    nullable: true,
    description: 'succeeded ÷ finished, 0 … 1; null when none finished',
  })
  successRate: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  medianDurationMs: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  medianApprovalWaitMs: number | null;
}

export class TemplateStatsListDto {
  @ApiProperty({ format: 'date-time' })
  from: string;

  @ApiProperty({ format: 'date-time' })
  to: string;

  @ApiProperty({ type: [TemplateStatsDto] })
  data: TemplateStatsDto[];
}

export class ConnectorStatsDto {
  @ApiProperty({ description: 'The tool id the connector is bound to' })
  toolId: string;

  @ApiProperty({ type: 'integer' })
  calls: number;

  @ApiProperty({ type: 'integer' })
  errors: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Failed calls by reason (`timeout`, `http_status`, `network`, …)',
  })
  errorsByReason: Record<string, number>;

  @ApiProperty({ type: PercentilesDto })
  latencyMs: PercentilesDto;
}

export class ConnectorStatsListDto {
  @ApiProperty({ format: 'date-time' })
  from: string;

  @ApiProperty({ format: 'date-time' })
  to: string;

  @ApiProperty({ type: [ConnectorStatsDto] })
  data: ConnectorStatsDto[];
}

export class UsageDto {
  @ApiProperty({ format: 'date-time', description: 'Start of this month (UTC, as the run budget counts)' })
  month: string;

  @ApiProperty({ type: 'integer' })
  runsStarted: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'null: no budget' })
  monthlyRunBudget: number | null;

  @ApiProperty({ type: 'integer', description: 'Runs executing now (holding a slot)' })
  runsInFlight: number;

  @ApiProperty({ type: 'integer' })
  maxConcurrentRuns: number;

  @ApiProperty({ type: 'integer' })
  members: number;

  @ApiProperty({ type: 'integer', description: 'API keys neither revoked nor expired' })
  apiKeys: number;

  @ApiProperty({ type: 'integer', description: "Events in the company's audit trail" })
  auditEvents: number;

  @ApiProperty({ type: 'integer', description: "The company's wiki pages" })
  wikiPages: number;

  @ApiProperty({ type: 'integer', description: "Cards on the company's boards" })
  cards: number;
}
