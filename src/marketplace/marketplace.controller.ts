import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { DraftDto } from '../drafts/dto/draft.dto.js';
import { CatalogQueryDto } from '../templates/dto/template.dto.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { InstallListingDto, ListingDto, ListingSummaryDto } from './dto/marketplace.dto.js';
import { MarketplaceService } from './marketplace.service.js';

const ListingPage = PageDtoOf(ListingSummaryDto, 'ListingPage');

@ApiTags('Marketplace')
@Controller('v1/marketplace')
export class MarketplaceController {
  constructor(private readonly marketplace: MarketplaceService) {}

  @Get()
  @Authorize('read', 'Template')
  @ApiOperation({
    operationId: 'Marketplace_list',
    summary:
      'Installable listings (the governed catalog), ordered by key; filter by category, search by name',
  })
  @ApiOkResponse({ type: ListingPage })
  list(@Query() query: CatalogQueryDto): Page<ListingSummaryDto> {
    return this.marketplace.list(query);
  }

  @Get(':listingId')
  @Authorize('read', 'Template')
  @ApiOperation({
    operationId: 'Marketplace_get',
    summary: 'A listing with the definition an install copies',
  })
  @ApiOkResponse({ type: ListingDto })
  get(@IdParam('listingId') listingId: string): ListingDto {
    return this.marketplace.get(listingId);
  }

  @Post(':listingId/install')
  @Authorize('create', 'Draft')
  @ApiOperation({
    operationId: 'Marketplace_install',
    summary: "Copy a listing into a new draft of the caller's company (no link back to the listing)",
  })
  @ApiCreatedResponse({ type: DraftDto })
  @ProblemResponse(409, 'The chosen key is a catalog key or is used by another draft (CONFLICT)')
  install(
    @Tenant() tenant: TenantContext,
    @IdParam('listingId') listingId: string,
    @Body() dto: InstallListingDto,
  ): Promise<DraftDto> {
    return this.marketplace.install(tenant, listingId, dto);
  }
}
