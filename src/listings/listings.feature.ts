import { defineFeature } from '../feature/feature.js';
import { DraftListing } from './draft-listing.entity.js';
import { Listing } from './listing.entity.js';
import { ListingsModule } from './listings.module.js';

export const LISTING_AUDIT_ACTIONS = {
  'marketplace.listed': {
    version: 1,
    description:
      'A published draft version was listed (or re-listed: the copy replaced) in the community marketplace; target the draft; metadata.listingId, metadata.versionId, metadata.version, metadata.replaced',
  },
  'marketplace.unlisted': {
    version: 1,
    description:
      "A draft's community listing was removed; target the draft; metadata.listingId, metadata.installCount",
  },
} as const;

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof LISTING_AUDIT_ACTIONS, true> {}
}

/**
 * The community marketplace (issue 18): managers list a published draft version as a copy readable by every
 * company; members of any company install it as an independent draft (`/v1/marketplace`). Listing and
 * unlisting are `publish` on `Draft` (manager and up); reading and installing use the marketplace's rules.
 */
export const listingsFeature = defineFeature({
  name: 'listings',
  module: ListingsModule,
  entities: [Listing, DraftListing],
  auditActions: LISTING_AUDIT_ACTIONS,
});
