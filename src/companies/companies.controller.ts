import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { CompanyAdminService } from './company-admin.service.js';
import { CompanyDto, UpdateCompanyDto } from './dto/company.dto.js';

@ApiTags('Companies')
@ApiParam({ name: 'companyId', type: String, format: 'uuid', description: "The caller's company (else 404)" })
@Controller('v1/companies/:companyId')
export class CompaniesController {
  constructor(private readonly companies: CompanyAdminService) {}

  @Get()
  @Authorize('read', 'Company')
  @ApiOperation({ operationId: 'Companies_get', summary: "The caller's company and its settings" })
  @ApiOkResponse({ type: CompanyDto })
  get(@Tenant() tenant: TenantContext): Promise<CompanyDto> {
    return this.companies.get(tenant);
  }

  @Patch()
  @Authorize('update', 'Company')
  @ApiOperation({ operationId: 'Companies_update', summary: 'Change the name and settings (admins)' })
  @ApiOkResponse({ type: CompanyDto })
  update(@Tenant() tenant: TenantContext, @Body() dto: UpdateCompanyDto): Promise<CompanyDto> {
    return this.companies.update(tenant, dto);
  }

  @Delete()
  @HttpCode(202)
  @Authorize('delete', 'Company', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Companies_delete',
    summary:
      'Schedule deletion (owner): purged with all its data after 30 days, restorable until then; idempotent',
  })
  @ApiAcceptedResponse({ type: CompanyDto })
  scheduleDeletion(@Tenant() tenant: TenantContext): Promise<CompanyDto> {
    return this.companies.scheduleDeletion(tenant);
  }

  @Post('restore')
  @HttpCode(200)
  @Authorize('restore', 'Company', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Companies_restore',
    summary: 'Cancel a scheduled deletion (owner), during the grace window',
  })
  @ApiOkResponse({ type: CompanyDto })
  @ProblemResponse(409, 'Not scheduled for deletion, or the grace window has ended (CONFLICT)')
  restore(@Tenant() tenant: TenantContext): Promise<CompanyDto> {
    return this.companies.restore(tenant);
  }
}
