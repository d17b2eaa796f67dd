import type { ListingDto, ListingSummaryDto } from '../marketplace/dto/marketplace.dto.js';
import type { Listing } from './listing.entity.js';

/**
 * A community listing as every company sees it: field by field from the copy, so nothing of the publisher
 * (`publisherCompanyId`) can slip into a response by a spread.
 */
export function toCommunitySummary(l: Listing): ListingSummaryDto {
  return {
    listingId: l.id,
    source: 'community',
    key: null,
    version: null,
    name: l.name,
    description: l.description,
    category: l.category,
    stepCount: l.steps.length,
    publisherName: l.publisherName,
    summary: l.summary,
    listedAt: l.listedAt.toISOString(),
    installCount: l.installCount,
  };
}

export function toCommunityListing(l: Listing): ListingDto {
  return { ...toCommunitySummary(l), inputSchema: l.inputSchema, steps: l.steps };
}
