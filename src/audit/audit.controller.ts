import { Controller, Get, Logger, Query, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authorize } from '../authz/authorize.decorator.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { contextBindings } from '../common/logger.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditEventDto, AuditExportTrailerLineDto, AuditVerificationDto } from './dto/audit-event.dto.js';
import { AuditExportQueryDto, AuditQueryDto } from './dto/audit-query.dto.js';
import { sendNdjson } from './ndjson-response.js';

const AuditEventPage = PageDtoOf(AuditEventDto, 'AuditEventPage');

/**
 * The company's audit trail, for its admins and owners (and a switched-in operator, who acts as admin).
 * `verify` and `export` are declared before any `:id` route could shadow them.
 */
@ApiTags('Audit')
@Controller('v1/audit-events')
export class AuditController {
  private readonly logger = new Logger('AuditController');

  constructor(private readonly queries: AuditQueryService) {}

  @Get()
  @Authorize('read', 'AuditEvent')
  @ApiOperation({
    operationId: 'Audit_list',
    summary: 'Audit events of the company, newest first; filter by action, actor, target and time range',
  })
  @ApiOkResponse({ type: AuditEventPage })
  list(@Query() query: AuditQueryDto): Promise<Page<AuditEventDto>> {
    return this.queries.list(query);
  }

  @Get('verify')
  @Authorize('read', 'AuditEvent')
  @ApiOperation({
    operationId: 'Audit_verify',
    summary:
      "Recompute the company's hash chain (every hash, link and seq, up to the chain head) and report the first break",
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.queries.verify();
  }

  @Get('export')
  @Authorize('read', 'AuditEvent')
  @ApiOperation({
    operationId: 'Audit_export',
    summary:
      'Stream the contiguous piece of the chain between from and to (occurredAt, inclusive) as NDJSON, in seq ' +
      'order, ending with a trailer line (the piece and the chain head); verify it offline with ' +
      '`npm run cli -- audit verify <file>`. The export itself is audited.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiExtraModels(AuditEventDto, AuditExportTrailerLineDto)
  @ApiResponse({
    status: 200,
    description:
      'One AuditEvent per line (application/x-ndjson), in seq order (none when nothing matches), then always ' +
      'one last line `{"trailer": {…}}` with the export range and the chain head at export time, so a saved file ' +
      'cut short is detected. A reader of events skips the line whose object has a `trailer` member.',
    content: {
      'application/x-ndjson': {
        schema: {
          oneOf: [{ $ref: getSchemaPath(AuditEventDto) }, { $ref: getSchemaPath(AuditExportTrailerLineDto) }],
        },
      },
    },
  })
  async export(@Query() query: AuditExportQueryDto, @Res() reply: FastifyReply): Promise<void> {
    const { range, batches } = await this.queries.startExport(query);
    const bindings = contextBindings();
    await sendNdjson(reply, batches, {
      filename: `audit-${bindings.companyId ?? 'company'}-${range ? `${range.first}-${range.last}` : 'empty'}.ndjson`,
      onError: (error) =>
        this.logger.error({ ...bindings, err: error }, 'audit export aborted after the response started'),
    });
  }
}
