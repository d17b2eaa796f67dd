import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { SessionDto } from '../auth/dto/auth.dto.js';
import { Authorize, ProblemResponse, Public } from '../authz/authorize.decorator.js';
import { OptionalTenant, Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import {
  AcceptInvitationDto,
  CreateInvitationDto,
  InvitationDto,
  ListInvitationsQueryDto,
} from './dto/invitation.dto.js';
import { InvitationAcceptance } from './invitation-acceptance.service.js';
import { InvitationsService } from './invitations.service.js';

const InvitationPage = PageDtoOf(InvitationDto, 'InvitationPage');
const companyParam = () =>
  ApiParam({
    name: 'companyId',
    type: String,
    format: 'uuid',
    description: "The caller's company (else 404)",
  });

@ApiTags('Invitations')
@Controller('v1')
export class InvitationsController {
  constructor(
    private readonly invitations: InvitationsService,
    private readonly acceptance: InvitationAcceptance,
  ) {}

  @Post('companies/:companyId/invitations')
  @Authorize('create', 'Invitation')
  @companyParam()
  @ApiOperation({
    operationId: 'Invitations_create',
    summary: 'Invite an email with a role (not above your own); the link is mailed, never returned',
  })
  @ApiCreatedResponse({ type: InvitationDto })
  @ProblemResponse(409, 'Already a member, or a pending invitation exists for this email (CONFLICT)')
  create(@Tenant() tenant: TenantContext, @Body() dto: CreateInvitationDto): Promise<InvitationDto> {
    return this.invitations.create(tenant, dto);
  }

  @Get('companies/:companyId/invitations')
  @Authorize('read', 'Invitation')
  @companyParam()
  @ApiOperation({ operationId: 'Invitations_list', summary: 'Invitations with their status, newest first' })
  @ApiOkResponse({ type: InvitationPage })
  list(@Query() query: ListInvitationsQueryDto): Promise<Page<InvitationDto>> {
    return this.invitations.list(query);
  }

  @Delete('companies/:companyId/invitations/:id')
  @HttpCode(204)
  @Authorize('delete', 'Invitation')
  @companyParam()
  @ApiOperation({
    operationId: 'Invitations_revoke',
    summary: 'Revoke an invitation: its link stops working',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ProblemResponse(409, 'The invitation was accepted already (CONFLICT)')
  async revoke(@Tenant() tenant: TenantContext, @IdParam('id') id: string): Promise<void> {
    await this.invitations.revoke(tenant, id);
  }

  @Post('companies/:companyId/invitations/:id/resend')
  @HttpCode(200)
  @Authorize('update', 'Invitation')
  @companyParam()
  @ApiOperation({
    operationId: 'Invitations_resend',
    summary: 'Send again with a new link and expiry (the previous link dies); limited per company per hour',
  })
  @ApiOkResponse({ type: InvitationDto })
  @ProblemResponse(409, 'The invitation was accepted or revoked (CONFLICT)')
  resend(@Tenant() tenant: TenantContext, @IdParam('id') id: string): Promise<InvitationDto> {
    return this.invitations.resend(tenant, id);
  }

  @Post('invitations/accept')
  @Public({ authenticate: 'optional' })
  @ApiOperation({
    operationId: 'Invitations_accept',
    summary:
      'Join with an invitation token: signed in (for your own email) or as a new account (name, password); answers a session',
  })
  @ApiCreatedResponse({ type: SessionDto })
  @ProblemResponse(401, 'An account with this email exists: sign in first (UNAUTHENTICATED)')
  @ProblemResponse(404, 'Unknown, expired, revoked or used token (NOT_FOUND)')
  @ProblemResponse(409, 'Already a member of the company (CONFLICT)')
  accept(
    @OptionalTenant() tenant: TenantContext | undefined,
    @Body() dto: AcceptInvitationDto,
  ): Promise<SessionDto> {
    return this.acceptance.accept(dto, tenant);
  }
}
