import type { Opt } from '@mikro-orm/core';
import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Draft } from '../drafts/draft.entity.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Listing } from './listing.entity.js';

/**
 * The publisher's side of a listing: which of its drafts (and which version) the listing was copied from. A
 * tenant table like any other (RLS, a composite key to `drafts`), pointing *at* the listing:
 * nothing in `listings` points back, so the public row reaches no tenant row of its publisher. One listing per
 * draft; re-listing updates this row and replaces the listing's copy; unlisting deletes both (the foreign key
 * to the listing cascades as well).
 */
@Entity({ tableName: 'draft_listings' })
@Unique({ name: 'draft_listings_company_draft_unique', properties: ['companyId', 'draftId'] })
export class DraftListing extends TenantEntity {
  @ManyToOne(() => Draft, { mapToPk: true, fieldName: 'draft_id' })
  draftId: string;

  /**
   * The listed version (of this draft). A plain column, not a key: versions are immutable and outlive their
   * draft, and one composite key (the draft's) keeps the row inside its company.
   */
  @Property({ type: 'uuid' })
  versionId: string;

  @ManyToOne(() => Listing, { mapToPk: true, fieldName: 'listing_id', deleteRule: 'cascade' })
  listingId: string;

  @Property({ length: 100 })
  listedBy: string;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(draftId: string, versionId: string, listingId: string, listedBy: string) {
    super();
    this.draftId = draftId;
    this.versionId = versionId;
    this.listingId = listingId;
    this.listedBy = listedBy;
  }
}
