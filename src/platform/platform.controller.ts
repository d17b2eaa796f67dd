import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { IdParam } from '../common/id-param.js';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PlatformOperator } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DirectoryEntryDto, SwitchInDto, SwitchInTokenDto } from './dto/platform.dto.js';
import { PlatformService } from './platform.service.js';

const DirectoryPage = PageDtoOf(DirectoryEntryDto, 'DirectoryPage');

@ApiTags('Platform')
@Controller('v1/platform/companies')
export class PlatformController {
  constructor(private readonly platform: PlatformService) {}

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
      'A short-lived (≤ 60 min) token scoped to the company, with an act claim; audited in that company',
  })
  @ApiCreatedResponse({ type: SwitchInTokenDto })
  switchIn(
    @Tenant() tenant: TenantContext,
    @IdParam('companyId') companyId: string,
    @Body() dto: SwitchInDto,
  ): Promise<SwitchInTokenDto> {
    return this.platform.switchIn(tenant, companyId, dto.reason);
  }
}
