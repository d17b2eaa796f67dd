import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors/app-error.js';
import type { Page } from '../common/pagination.js';
import { DraftsService } from '../drafts/drafts.service.js';
import type { DraftDto } from '../drafts/dto/draft.dto.js';
import type { CatalogTemplate } from '../templates/catalog.js';
import type { CatalogQueryDto } from '../templates/dto/template.dto.js';
import { TemplateCatalog } from '../templates/template-catalog.js';
import { toTemplateDto, toTemplateSummary } from '../templates/templates.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { InstallListingDto, ListingDto, ListingSummaryDto } from './dto/marketplace.dto.js';

function toListingSummary(entry: CatalogTemplate): ListingSummaryDto {
  const { id, ...rest } = toTemplateSummary(entry);
  return { listingId: id, ...rest };
}

function toListing(entry: CatalogTemplate): ListingDto {
  const { id, ...rest } = toTemplateDto(entry);
  return { listingId: id, ...rest };
}

/**
 * The marketplace: the governed catalog offered for installation. Installing copies a listing into the caller's
 * drafts, where it is an ordinary draft of the company, with no link back to the listing.
 */
@Injectable()
export class MarketplaceService {
  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly drafts: DraftsService,
  ) {}

  list(query: CatalogQueryDto): Page<ListingSummaryDto> {
    const page = this.catalog.list(query);
    return { data: page.data.map(toListingSummary), nextCursor: page.nextCursor };
  }

  get(listingId: string): ListingDto {
    return toListing(this.listing(listingId));
  }

  install(tenant: TenantContext, listingId: string, dto: InstallListingDto): Promise<DraftDto> {
    return this.drafts.installCopy(tenant, this.listing(listingId), { key: dto.key, name: dto.name });
  }

  private listing(listingId: string): CatalogTemplate {
    const entry = this.catalog.findById(listingId);
    if (!entry) throw Errors.notFound('Listing');
    return entry;
  }
}
