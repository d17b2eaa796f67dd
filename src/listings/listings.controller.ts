import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { ListingDto } from '../marketplace/dto/marketplace.dto.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { CreateListingDto, DraftListingDto } from './dto/listings.dto.js';
import { toCommunityListing } from './listing.mapper.js';
import { ListingsService } from './listings.service.js';

@ApiTags('Marketplace')
@Controller('v1/drafts')
export class ListingsController {
  constructor(private readonly listings: ListingsService) {}

  @Post(':id/listing')
  @HttpCode(200)
  @Authorize('publish', 'Draft')
  @ApiOperation({
    operationId: 'Listings_create',
    summary:
      'List a published version (the latest when absent) in the community marketplace, as a copy; listing again replaces the copy (manager and up)',
  })
  @ApiOkResponse({ type: ListingDto, description: 'The listing as every company sees it' })
  @ProblemResponse(409, 'The draft has no published version, or is unpublished (CONFLICT)')
  @ProblemResponse(
    422,
    'A detector found something that must not leave the company (DLP_BLOCKED): detectors and field paths, never the text',
  )
  async list(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: CreateListingDto,
  ): Promise<ListingDto> {
    return toCommunityListing(await this.listings.list(tenant, id, dto));
  }

  @Get(':id/listing')
  @Authorize('read', 'Draft')
  @ApiOperation({
    operationId: 'Listings_get',
    summary:
      "The draft's community listing as every company sees it, with the version it copies (404 when not listed)",
  })
  @ApiOkResponse({ type: DraftListingDto })
  async get(@IdParam() id: string): Promise<DraftListingDto> {
    const { listing, versionId } = await this.listings.ofDraft(id);
    return { ...toCommunityListing(listing), versionId };
  }

  @Delete(':id/listing')
  @HttpCode(204)
  @Authorize('publish', 'Draft')
  @ApiOperation({
    operationId: 'Listings_delete',
    summary:
      "Unlist the draft's listing: gone from every company's marketplace at once; copies already installed stay (manager and up)",
  })
  @ApiNoContentResponse({ description: 'Unlisted' })
  async unlist(@IdParam() id: string): Promise<void> {
    await this.listings.unlist(id);
  }
}
