import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, PlatformOperator, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { SwitchInTokenDto } from '../platform/dto/platform.dto.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { ListAccessRequestsQueryDto, OperatorAccessRequestDto } from './dto/operator-access.dto.js';
import { OperatorAccessService } from './operator-access.service.js';

const AccessRequestPage = PageDtoOf(OperatorAccessRequestDto, 'OperatorAccessRequestPage');

/** The company's side: its admins list, approve and deny platform operators' access requests. */
@ApiTags('Operator access')
@Controller('v1/operator-access-requests')
export class OperatorAccessController {
  constructor(private readonly access: OperatorAccessService) {}

  @Get()
  @Authorize('read', 'OperatorAccessRequest')
  @ApiOperation({
    operationId: 'OperatorAccessRequests_list',
    summary: "Platform operators' requests to switch into the company, newest first (admins)",
  })
  @ApiOkResponse({ type: AccessRequestPage })
  list(@Query() query: ListAccessRequestsQueryDto): Promise<Page<OperatorAccessRequestDto>> {
    return this.access.list(query);
  }

  @Get(':id')
  @Authorize('read', 'OperatorAccessRequest')
  @ApiOperation({
    operationId: 'OperatorAccessRequests_get',
    summary: 'One access request: who asks, why, read or write, its status (admins)',
  })
  @ApiOkResponse({ type: OperatorAccessRequestDto })
  get(@IdParam() id: string): Promise<OperatorAccessRequestDto> {
    return this.access.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Authorize('approve', 'OperatorAccessRequest', { principals: ['user'] })
  @ApiOperation({
    operationId: 'OperatorAccessRequests_approve',
    summary:
      'Approve a pending request (admins, in person): the operator may then obtain one switch-in token, valid ≤ 60 min from now',
  })
  @ApiOkResponse({ type: OperatorAccessRequestDto })
  @ProblemResponse(409, 'The request is not pending (CONFLICT)')
  approve(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<OperatorAccessRequestDto> {
    return this.access.approve(tenant, id);
  }

  @Post(':id/deny')
  @HttpCode(200)
  @Authorize('deny', 'OperatorAccessRequest', { principals: ['user'] })
  @ApiOperation({
    operationId: 'OperatorAccessRequests_deny',
    summary: 'Deny a pending request (admins, in person): no token is ever issued for it',
  })
  @ApiOkResponse({ type: OperatorAccessRequestDto })
  @ProblemResponse(409, 'The request is not pending (CONFLICT)')
  deny(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<OperatorAccessRequestDto> {
    return this.access.deny(tenant, id);
  }
}

/** The operator's side of a request: its status, and the switch-in token once approved. */
@ApiTags('Platform')
@Controller('v1/platform/companies/:companyId/access-requests')
export class OperatorAccessPlatformController {
  constructor(private readonly access: OperatorAccessService) {}

  @Get(':id')
  @PlatformOperator()
  @ApiOperation({
    operationId: 'Platform_getAccessRequest',
    summary: "The operator's own access request to that company (status, expiry)",
  })
  @ApiOkResponse({ type: OperatorAccessRequestDto })
  get(
    @Tenant() tenant: TenantContext,
    @IdParam('companyId') companyId: string,
    @IdParam() id: string,
  ): Promise<OperatorAccessRequestDto> {
    return this.access.requestOf(tenant, companyId, id);
  }

  @Post(':id/token')
  @HttpCode(201)
  @PlatformOperator()
  @ApiOperation({
    operationId: 'Platform_redeemAccessRequest',
    summary:
      'The switch-in token of an approved request, once; it expires when the approval window ends (≤ 60 min after approval)',
  })
  @ApiCreatedResponse({ type: SwitchInTokenDto })
  @ProblemResponse(409, 'Still pending, or the token was already issued (CONFLICT)')
  redeem(
    @Tenant() tenant: TenantContext,
    @IdParam('companyId') companyId: string,
    @IdParam() id: string,
  ): Promise<SwitchInTokenDto> {
    return this.access.redeem(tenant, companyId, id);
  }
}
