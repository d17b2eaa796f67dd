import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors/app-error.js';
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, type Page } from '../common/pagination.js';
import { deriveKeyBase } from '../drafts/draft-keys.js';
import { DraftsService } from '../drafts/drafts.service.js';
import type { DraftDto } from '../drafts/dto/draft.dto.js';
import { toCommunityListing, toCommunitySummary } from '../listings/listing.mapper.js';
import { ListingsService } from '../listings/listings.service.js';
import type { CatalogTemplate } from '../templates/catalog.js';
import { TemplateCatalog } from '../templates/template-catalog.js';
import { toTemplateDto, toTemplateSummary } from '../templates/templates.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type {
  InstallListingDto,
  ListingDto,
  ListingSummaryDto,
  MarketplaceQueryDto,
} from './dto/marketplace.dto.js';

const CATALOG_ONLY = {
  source: 'catalog',
  publisherName: null,
  summary: null,
  listedAt: null,
  installCount: null,
} as const;

function toCatalogSummary(entry: CatalogTemplate): ListingSummaryDto {
  const { id, ...rest } = toTemplateSummary(entry);
  return { listingId: id, ...rest, ...CATALOG_ONLY };
}

function toCatalogListing(entry: CatalogTemplate): ListingDto {
  const { id, ...rest } = toTemplateDto(entry);
  return { listingId: id, ...rest, ...CATALOG_ONLY };
}

/**
 * The marketplace: the governed catalog and the community listings of every company, offered for installation.
 * Installing copies a listing into the caller's drafts, where it is an ordinary draft of the company, with no
 * link back to the listing; a community listing's install count goes up by one, who installed is not recorded
 * anywhere but the installer's own audit trail.
 *
 * One keyset over both sources: the catalog by key, then the community listings by id (newest first). A cursor
 * is the last listing's id, so it tells by itself which part the next page continues in.
 */
@Injectable()
export class MarketplaceService {
  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly drafts: DraftsService,
    private readonly listings: ListingsService,
  ) {}

  async list(query: MarketplaceQueryDto): Promise<Page<ListingSummaryDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeCursor(query.cursor);
    const inCatalog = after === undefined || this.catalog.findById(after) !== undefined;
    const mismatch = query.source === 'catalog' ? !inCatalog : query.source === 'community' && inCatalog;
    if (after !== undefined && mismatch) {
      // A catalog cursor on a community-only list, or the reverse.
      throw Errors.field('cursor', 'is not a cursor this API issued');
    }
    const data: ListingSummaryDto[] = [];
    let more = false;
    if (query.source !== 'community' && inCatalog) {
      const page = this.catalog.list({ ...query, limit });
      data.push(...page.data.map(toCatalogSummary));
      more = page.nextCursor !== null;
    }
    if (query.source !== 'catalog' && !more) {
      const room = limit - data.length;
      const rows = await this.listings.page({
        before: inCatalog ? undefined : after,
        limit: room + 1,
        category: query.category,
        q: query.q,
      });
      more = rows.length > room;
      data.push(...rows.slice(0, room).map(toCommunitySummary));
    }
    const last = data.at(-1);
    return { data, nextCursor: more && last ? encodeCursor(last.listingId) : null };
  }

  async get(listingId: string): Promise<ListingDto> {
    const entry = this.catalog.findById(listingId);
    if (entry) return toCatalogListing(entry);
    const listing = await this.listings.find(listingId);
    if (!listing) throw Errors.notFound('Listing');
    return toCommunityListing(listing);
  }

  async install(tenant: TenantContext, listingId: string, dto: InstallListingDto): Promise<DraftDto> {
    const overrides = { key: dto.key, name: dto.name };
    const entry = this.catalog.findById(listingId);
    if (entry) {
      const { key, version, ...definition } = entry.definition;
      return this.drafts.installCopy(
        tenant,
        {
          listingId: entry.id,
          definition,
          keyBase: `${key}-copy`,
          metadata: { source: 'catalog', listingKey: key, listingVersion: version },
        },
        overrides,
      );
    }
    const listing = await this.listings.find(listingId);
    if (!listing) throw Errors.notFound('Listing');
    return this.drafts.installCopy(
      tenant,
      {
        listingId: listing.id,
        definition: {
          name: listing.name,
          description: listing.description,
          category: listing.category,
          inputSchema: listing.inputSchema,
          steps: listing.steps,
        },
        keyBase: deriveKeyBase(listing.category, listing.name),
        metadata: { source: 'community' },
        inTransaction: async (tx) => {
          await this.listings.countInstall(tx, listing.id);
        },
      },
      overrides,
    );
  }
}
