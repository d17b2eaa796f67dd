import { applyDecorators, Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import { IdempotencyKey, IDEMPOTENCY_KEY_SCHEMA } from '../idempotency/idempotency-key.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import {
  CancelRunDto,
  RunDto,
  RunEventDto,
  RunQueryDto,
  RunSummaryDto,
  StartCatalogRunDto,
  StartDraftRunDto,
  StartRunDto,
  VerdictDto,
} from './dto/runs.dto.js';
import { RunDecisionsService } from './run-decisions.service.js';
import { RunsService } from './runs.service.js';

const RunPage = PageDtoOf(RunSummaryDto, 'RunPage');
const RunEventPage = PageDtoOf(RunEventDto, 'RunEventPage');

/** `Idempotency-Key` on `POST /v1/runs`: a retry answers the run the first request started. */
function ReplaysIdempotencyKey(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: IDEMPOTENCY_KEY_SCHEMA,
      description:
        'A unique value per intended run (a UUID). A retry with the same key and body within 24 h starts ' +
        'nothing and answers 202 with the same run (and `Idempotent-Replayed: true`); the same key with ' +
        'another body answers 409.',
    }),
    ProblemResponse(409, 'The Idempotency-Key was used for a different request (CONFLICT)'),
  );
}

@ApiTags('Runs')
@Controller('v1/runs')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly decisions: RunDecisionsService,
  ) {}

  @Post()
  @HttpCode(202)
  @Authorize('create', 'Run')
  @ReplaysIdempotencyKey()
  @ApiOperation({
    operationId: 'Runs_create',
    summary:
      'Start a run of a catalog template or a published draft version; the input is validated against its ' +
      'schema. Answers 202 with the run `queued`: a worker executes it in the background',
  })
  @ApiExtraModels(StartCatalogRunDto, StartDraftRunDto)
  @ApiBody({
    description:
      'Exactly one of `templateId` (a catalog template) and `draftVersionId` (a published draft version)',
    schema: {
      oneOf: [{ $ref: getSchemaPath(StartCatalogRunDto) }, { $ref: getSchemaPath(StartDraftRunDto) }],
    },
  })
  @ApiAcceptedResponse({
    type: RunDto,
    headers: {
      Location: {
        description: 'The run: `/v1/runs/{id}`',
        schema: { type: 'string', format: 'uri-reference', maxLength: 64 },
      },
      'Idempotent-Replayed': {
        description: '`true` when this answers a retry of an earlier request with the same Idempotency-Key',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ProblemResponse(
    409,
    'The draft of this version is unpublished, or the Idempotency-Key was reused (CONFLICT)',
  )
  @ProblemResponse(
    429,
    "The company's or the account's monthly run budget is used up (BUDGET_EXCEEDED), or rate limited",
  )
  async start(
    @Tenant() tenant: TenantContext,
    @Body() dto: StartRunDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunDto> {
    const { run, replayed } = await this.runs.start(tenant, dto, idempotencyKey);
    void reply.header('Location', `/v1/runs/${run.id}`);
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    return run;
  }

  @Get()
  @Authorize('read', 'Run')
  @ApiOperation({
    operationId: 'Runs_list',
    summary: "The company's runs, newest first; filter by `status`, `templateId` or `startedBy`",
  })
  @ApiOkResponse({ type: RunPage })
  list(@Query() query: RunQueryDto): Promise<Page<RunSummaryDto>> {
    return this.runs.list(query);
  }

  @Get(':id')
  @Authorize('read', 'Run')
  @ApiOperation({
    operationId: 'Runs_get',
    summary: 'One run: its input, every step (status, attempts, output, error), parked state and verdicts',
  })
  @ApiOkResponse({ type: RunDto })
  get(@IdParam() id: string): Promise<RunDto> {
    return this.runs.get(id);
  }

  @Get(':id/events')
  @Authorize('read', 'Run')
  @ApiOperation({
    operationId: 'Runs_events',
    summary: "The run's timeline, oldest first (a timeline reads forward), keyset-paginated",
  })
  @ApiOkResponse({ type: RunEventPage })
  events(@IdParam() id: string, @Query() query: PageQueryDto): Promise<Page<RunEventDto>> {
    return this.runs.events(id, query);
  }

  @Post(':id/verdict')
  @HttpCode(200)
  @Authorize('verdict', 'Run')
  @ApiOperation({
    operationId: 'Runs_verdict',
    summary:
      'Approve (the run resumes) or reject (it ends) a parked run: manager and up, and at least the step’s ' +
      '`minRole` (404 otherwise). With four-eyes on, the starter cannot approve (403)',
  })
  @ApiOkResponse({ type: RunDto })
  @ProblemResponse(409, 'The run is not parked, or this step already has its verdict (CONFLICT)')
  verdict(@Tenant() tenant: TenantContext, @IdParam() id: string, @Body() dto: VerdictDto): Promise<RunDto> {
    return this.decisions.verdict(tenant, id, dto);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Authorize('cancel', 'Run')
  @ApiOperation({
    operationId: 'Runs_cancel',
    summary:
      'Cancel a run (its starter, or a manager and up): queued and parked runs at once; a running one before ' +
      'its next step (`cancelRequestedAt`)',
  })
  @ApiBody({ type: CancelRunDto, required: false })
  @ApiOkResponse({ type: RunDto })
  @ProblemResponse(409, 'The run has already ended (CONFLICT)')
  cancel(@Tenant() tenant: TenantContext, @IdParam() id: string, @Body() dto: CancelRunDto): Promise<RunDto> {
    return this.decisions.cancel(tenant, id, dto);
  }
}
