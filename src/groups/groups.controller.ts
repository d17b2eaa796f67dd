import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { CreateGroupDto, GroupDto, GroupMemberDto, UpdateGroupDto } from './dto/group.dto.js';
import { GroupsService } from './groups.service.js';

const GroupPage = PageDtoOf(GroupDto, 'GroupPage');
const GroupMemberPage = PageDtoOf(GroupMemberDto, 'GroupMemberPage');

@ApiTags('Groups')
@Controller('v1/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @Authorize('read', 'Group')
  @ApiOperation({ operationId: 'Groups_list', summary: "The company's groups, newest first" })
  @ApiOkResponse({ type: GroupPage })
  list(@Query() query: PageQueryDto): Promise<Page<GroupDto>> {
    return this.groups.list(query);
  }

  @Post()
  @Authorize('create', 'Group')
  @ApiOperation({
    operationId: 'Groups_create',
    summary:
      'Create a group: only permissions you hold, never an owner-only one; `key` unique in the company',
  })
  @ApiCreatedResponse({ type: GroupDto })
  @ProblemResponse(409, 'The key is taken in the company (CONFLICT)')
  create(@Tenant() tenant: TenantContext, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(tenant, dto);
  }

  @Get(':id')
  @Authorize('read', 'Group')
  @ApiOperation({ operationId: 'Groups_get', summary: 'A group with its permissions' })
  @ApiOkResponse({ type: GroupDto })
  get(@IdParam() id: string): Promise<GroupDto> {
    return this.groups.get(id);
  }

  @Patch(':id')
  @Authorize('update', 'Group')
  @ApiOperation({
    operationId: 'Groups_update',
    summary: 'Rename, re-key or change the permissions of a group (only permissions you hold may be added)',
  })
  @ApiOkResponse({ type: GroupDto })
  @ProblemResponse(409, 'The key is taken in the company (CONFLICT)')
  update(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupDto> {
    return this.groups.update(tenant, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('delete', 'Group')
  @ApiOperation({ operationId: 'Groups_delete', summary: 'Delete a group and its memberships' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<void> {
    await this.groups.remove(tenant, id);
  }

  @Get(':id/members')
  @Authorize('read', 'Group')
  @ApiOperation({ operationId: 'Groups_listMembers', summary: 'Members of a group, newest first' })
  @ApiOkResponse({ type: GroupMemberPage })
  members(@IdParam() id: string, @Query() query: PageQueryDto): Promise<Page<GroupMemberDto>> {
    return this.groups.members(id, query);
  }

  @Put(':id/members/:userId')
  @Authorize('update', 'Group')
  @ApiOperation({
    operationId: 'Groups_addMember',
    summary: 'Add a member of the company to a group (you must hold every permission of the group)',
  })
  @ApiOkResponse({ type: GroupMemberDto })
  addMember(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @IdParam('userId') userId: string,
  ): Promise<GroupMemberDto> {
    return this.groups.addMember(tenant, id, userId);
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @Authorize('update', 'Group')
  @ApiOperation({ operationId: 'Groups_removeMember', summary: 'Remove a member from a group' })
  @ApiNoContentResponse({ description: 'Removed' })
  async removeMember(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @IdParam('userId') userId: string,
  ): Promise<void> {
    await this.groups.removeMember(tenant, id, userId);
  }
}
