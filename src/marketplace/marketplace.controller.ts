import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { DraftDto } from '../drafts/dto/draft.dto.js';
import type { TenantContext } from '../tenancy/request-store.js';
import {
  InstallListingDto,
  ListingDto,
  ListingSummaryDto,
  MarketplaceQueryDto,
} from './dto/marketplace.dto.js';
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
      'Installable listings: the governed catalog (by key), then community listings of every company (newest first); filter by source and category, search by name',
  })
  @ApiOkResponse({ type: ListingPage })
  list(@Query() query: MarketplaceQueryDto): Promise<Page<ListingSummaryDto>> {
    return this.marketplace.list(query);
  }

  @Get(':listingId')
  @Authorize('read', 'Template')
  @ApiOperation({
    operationId: 'Marketplace_get',
    summary: 'A listing (catalog or community) with the definition an install copies',
  })
  @ApiOkResponse({ type: ListingDto })
  get(@IdParam('listingId') listingId: string): Promise<ListingDto> {
    return this.marketplace.get(listingId);
  }

  @Post(':listingId/install')
  @Authorize('create', 'Draft')
  @ApiOperation({
    operationId: 'Marketplace_install',
    summary:
      "Copy a listing into a new draft of the caller's company (no link back to the listing); a community listing's install count goes up by one",
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
