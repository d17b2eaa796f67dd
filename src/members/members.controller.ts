import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { MemberDto, OwnershipTransferDto, TransferOwnershipDto, UpdateMemberDto } from './dto/member.dto.js';
import { MembersService } from './members.service.js';

const MemberPage = PageDtoOf(MemberDto, 'MemberPage');

@ApiTags('Members')
@ApiParam({ name: 'companyId', type: String, format: 'uuid', description: "The caller's company (else 404)" })
@Controller('v1/companies/:companyId')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get('members')
  @Authorize('read', 'Member')
  @ApiOperation({ operationId: 'Members_list', summary: 'Members of the company, newest first' })
  @ApiOkResponse({ type: MemberPage })
  list(@Query() query: PageQueryDto): Promise<Page<MemberDto>> {
    return this.members.list(query);
  }

  @Patch('members/:userId')
  @Authorize('update', 'Member')
  @ApiOperation({
    operationId: 'Members_update',
    summary: "Change a member's role: not above your own, not on a member above you, never the last owner",
  })
  @ApiOkResponse({ type: MemberDto })
  @ProblemResponse(409, 'The last owner cannot be demoted (CONFLICT)')
  update(
    @Tenant() tenant: TenantContext,
    @IdParam('userId') userId: string,
    @Body() dto: UpdateMemberDto,
  ): Promise<MemberDto> {
    return this.members.changeRole(tenant, userId, dto.role);
  }

  @Delete('members/:userId')
  @HttpCode(204)
  @Authorize('delete', 'Member')
  @ApiOperation({
    operationId: 'Members_remove',
    summary:
      'Remove a member (admins; anyone may remove themselves) and revoke their refresh tokens; never the last owner',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ProblemResponse(409, 'The last owner cannot be removed (CONFLICT)')
  async remove(@Tenant() tenant: TenantContext, @IdParam('userId') userId: string): Promise<void> {
    await this.members.remove(tenant, userId);
  }

  @Post('ownership-transfer')
  @HttpCode(200)
  @Authorize('transfer', 'Ownership', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Members_transferOwnership',
    summary: 'The owner makes another member owner and becomes admin',
  })
  @ApiOkResponse({ type: OwnershipTransferDto })
  transferOwnership(
    @Tenant() tenant: TenantContext,
    @Body() dto: TransferOwnershipDto,
  ): Promise<OwnershipTransferDto> {
    return this.members.transferOwnership(tenant, dto.userId);
  }
}
