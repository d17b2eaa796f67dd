import { applyDecorators, Controller, Get, Headers, Query, Res, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authorize } from '../authz/authorize.decorator.js';
import { toCsv } from './analytics.csv.js';
import { AnalyticsService } from './analytics.service.js';
import {
  AnalyticsRangeQueryDto,
  AnalyticsRunsQueryDto,
  ConnectorStatsListDto,
  RunSeriesDto,
  TemplateStatsListDto,
  UsageDto,
} from './dto/analytics.dto.js';

/** 200 as JSON (`type`) or, with `Accept: text/csv`, the same rows as CSV. */
function OkJsonOrCsv(type: Type<unknown>): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(type),
    ApiOkResponse({
      description: 'JSON, or the same rows as CSV (with a header line) when the request accepts `text/csv`',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(type) } },
        'text/csv': { schema: { type: 'string' } },
      },
    }),
  );
}

/** Whether the caller asked for CSV (`Accept: text/csv`, before any JSON it also accepts). */
function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv !== -1 && (json === -1 || csv < json);
}

/** Answers `body` as JSON, or as CSV when asked for. */
function answer<T>(
  reply: FastifyReply,
  accept: string | undefined,
  body: T,
  csv: (b: T) => string,
): T | string {
  if (!wantsCsv(accept)) return body;
  void reply.header('Content-Type', 'text/csv; charset=utf-8');
  return csv(body);
}

@ApiTags('Analytics')
@Controller('v1/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('runs')
  @Authorize('read', 'Analytics')
  @ApiOperation({
    operationId: 'Analytics_runs',
    summary:
      'Runs per time bucket (hour, day, week, month in an IANA time zone): counts by outcome, runs parked at the ' +
      "bucket's end, duration and approval-wait percentiles; every bucket of the range, zeros included",
  })
  @OkJsonOrCsv(RunSeriesDto)
  async runs(
    @Query() query: AnalyticsRunsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunSeriesDto | string> {
    return answer(reply, accept, await this.analytics.runs(query), toCsv.runs);
  }

  @Get('templates')
  @Authorize('read', 'Analytics')
  @ApiOperation({
    operationId: 'Analytics_templates',
    summary: 'Per template (catalog or draft): runs, success rate, median duration and approval wait',
  })
  @OkJsonOrCsv(TemplateStatsListDto)
  async templates(
    @Query() query: AnalyticsRangeQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TemplateStatsListDto | string> {
    return answer(reply, accept, await this.analytics.templates(query), toCsv.templates);
  }

  @Get('connectors')
  @Authorize('read', 'Analytics')
  @ApiOperation({
    operationId: 'Analytics_connectors',
    summary: 'Per connector (tool id): calls made by runs, errors by reason, latency percentiles',
  })
  @OkJsonOrCsv(ConnectorStatsListDto)
  async connectors(
    @Query() query: AnalyticsRangeQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConnectorStatsListDto | string> {
    return answer(reply, accept, await this.analytics.connectors(query), toCsv.connectors);
  }

  @Get('usage')
  @Authorize('read', 'Analytics')
  @ApiOperation({
    operationId: 'Analytics_usage',
    summary:
      'This month: runs started against the monthly budget, runs in flight against the cap, members, API keys, ' +
      'audit events, wiki pages, cards',
  })
  @OkJsonOrCsv(UsageDto)
  async usage(
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageDto | string> {
    return answer(reply, accept, await this.analytics.usage(), toCsv.usage);
  }
}
