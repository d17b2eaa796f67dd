import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { IdParam } from '../common/id-param.js';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { PlatformOperator } from '../authz/authorize.decorator.js';
import { OperatorAccessRequestDto } from '../operator-access/dto/operator-access.dto.js';
import { OperatorAccessService } from '../operator-access/operator-access.service.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DirectoryEntryDto, SwitchInDto, SwitchInTokenDto } from './dto/platform.dto.js';
import { PlatformService } from './platform.service.js';

const DirectoryPage = PageDtoOf(DirectoryEntryDto, 'DirectoryPage');

@ApiTags('Platform')
@Controller('v1/platform/companies')
export class PlatformController {
  constructor(
    private readonly platform: PlatformService,
    private readonly access: OperatorAccessService,
  ) {}

  @Get()
  @PlatformOperator()
  @ApiOperation({
    operationId: 'Platform_listCompanies',
    summary: 'Directory of companies (id, name, slug, createdAt) for platform operators; no tenant data',
  })
  @ApiOkResponse({ type: DirectoryPage })
  list(@Query() query: PageQueryDto): Promise<Page<DirectoryEntryDto>> {
    return this.platform.directory(query);
  }

  @Post(':companyId/switch')
  @PlatformOperator()
  @ApiOperation({
    operationId: 'Platform_switchIn',
    summary:
      "Switch in, read-only unless mode is write: by the company's operatorAccess policy, a short-lived (≤ 60 min) token with an act claim (open, 201), a pending access request for its admins (approval, 202) or 403 (off); audited in that company",
  })
  @ApiCreatedResponse({ type: SwitchInTokenDto, description: 'Policy `open`: the switch-in token' })
  @ApiAcceptedResponse({
    type: OperatorAccessRequestDto,
    description:
      'Policy `approval`: a pending access request; once an admin approves it, POST /v1/platform/companies/{companyId}/access-requests/{id}/token',
  })
  async switchIn(
    @Tenant() tenant: TenantContext,
    @IdParam('companyId') companyId: string,
    @Body() dto: SwitchInDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SwitchInTokenDto | OperatorAccessRequestDto> {
    const outcome = await this.access.switchIn(tenant, companyId, dto.reason, dto.mode);
    if (outcome.kind === 'token') return outcome.token;
    void reply.status(202);
    return outcome.request;
  }
}
