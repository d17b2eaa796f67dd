import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { AcceptsIdempotencyKey, IdempotencyKey } from '../idempotency/idempotency-key.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { ApplicationsService } from './applications.service.js';
import {
  ApplicationCredentialsDto,
  ApplicationDto,
  ApplicationListQueryDto,
  CreateApplicationDto,
  UpdateApplicationDto,
} from './dto/applications.dto.js';

const ApplicationPage = PageDtoOf(ApplicationDto, 'ApplicationPage');

@ApiTags('Applications')
@Controller('v1/applications')
export class ApplicationsController {
  constructor(private readonly applications: ApplicationsService) {}

  @Post()
  @Authorize('create', 'Application', { principals: ['user', 'platform_admin'] })
  @AcceptsIdempotencyKey()
  @ApiOperation({
    operationId: 'Applications_create',
    summary:
      'Create an application (owner): its clientId, and its clientSecret shown once. Not available to ' +
      'API keys, applications or switched-in operators',
  })
  @ApiCreatedResponse({ type: ApplicationCredentialsDto })
  create(
    @Tenant() tenant: TenantContext,
    @Body() dto: CreateApplicationDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<ApplicationCredentialsDto> {
    return this.applications.create(tenant, dto, idempotencyKey);
  }

  @Get()
  @Authorize('read', 'Application', {
    // The account scope reads across the person's companies: their role in the active one does not matter.
    variant: { query: 'scope', value: 'account', action: 'read', subject: 'Account', principals: ['user'] },
  })
  @ApiOperation({
    operationId: 'Applications_list',
    summary:
      "The company's applications (admin); `?scope=account`: every company of the signed-in user where they " +
      'may read them (admin or owner there), each row with its company, whatever their role in the active ' +
      'company (people only: 403 for API keys, applications and switched-in operators)',
  })
  @ApiOkResponse({ type: ApplicationPage })
  list(
    @Tenant() tenant: TenantContext,
    @Query() query: ApplicationListQueryDto,
  ): Promise<Page<ApplicationDto>> {
    return query.scope === 'account'
      ? this.applications.listForAccount(tenant, query)
      : this.applications.list(query);
  }

  @Get(':id')
  @Authorize('read', 'Application')
  @ApiOperation({ operationId: 'Applications_get', summary: 'One application (admin); never its secret' })
  @ApiOkResponse({ type: ApplicationDto })
  get(@IdParam() id: string): Promise<ApplicationDto> {
    return this.applications.get(id);
  }

  @Patch(':id')
  @Authorize('update', 'Application')
  @ApiOperation({ operationId: 'Applications_update', summary: 'Edit name, description or role (owner)' })
  @ApiOkResponse({ type: ApplicationDto })
  update(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: UpdateApplicationDto,
  ): Promise<ApplicationDto> {
    return this.applications.update(tenant, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('delete', 'Application')
  @ApiOperation({
    operationId: 'Applications_delete',
    summary: 'Delete an application (owner); its secret stops working at once',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<void> {
    await this.applications.delete(tenant, id);
  }

  @Post(':id/rotate-secret')
  @Authorize('rotate', 'Application')
  @AcceptsIdempotencyKey()
  @ApiOperation({
    operationId: 'Applications_rotateSecret',
    summary: 'A new client secret (owner), shown once; the old one stops working at once',
  })
  @ApiCreatedResponse({ type: ApplicationCredentialsDto })
  rotateSecret(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<ApplicationCredentialsDto> {
    return this.applications.rotateSecret(tenant, id, idempotencyKey);
  }
}
