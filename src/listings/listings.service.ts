import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { isUuid } from '../common/ids.js';
import { escapeLike } from '../common/like.js';
import { DraftVersionsService } from '../drafts/draft-versions.service.js';
import { DraftsService } from '../drafts/drafts.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { LISTING_STATEMENTS } from '../tenancy/statements/listings.js';
import { DraftListing } from './draft-listing.entity.js';
import type { CreateListingDto } from './dto/listings.dto.js';
import { LISTING_SCANNER, type ListingScanner } from './listing-scanner.js';
import { Listing, type ListingSnapshot } from './listing.entity.js';
import { ListingErrors } from './listings.errors.js';

export interface CommunityQuery {
  /** Listings older than this one (keyset, `id DESC`). */
  before?: string;
  limit: number;
  category?: string;
  q?: string;
}

/**
 * The community marketplace's rows: listing a published draft version (a copy, scanned first), re-listing
 * (replaces the copy), unlisting (gone at once), the cross-company reads and the install count. The draft a
 * listing came from is known only on the publisher's side ({@link DraftListing}).
 */
@Injectable()
export class ListingsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly drafts: DraftsService,
    private readonly versions: DraftVersionsService,
    @Inject(LISTING_SCANNER) private readonly scanner: ListingScanner,
  ) {}

  /** Lists (or re-lists) a published version of a draft of the caller's company. */
  async list(ctx: TenantContext, draftId: string, dto: CreateListingDto): Promise<Listing> {
    const source = await this.versions.listableVersion(draftId, dto.versionId);
    const d = source.definition;
    const snapshot: ListingSnapshot = structuredClone({
      name: d.name,
      description: d.description,
      category: d.category,
      inputSchema: d.inputSchema,
      steps: d.steps,
      publisherName: dto.publisherName.trim(),
      summary: dto.summary?.trim() || null,
    });
    // ── DLP call site: every listing is scanned before anything is stored (see listing-scanner.ts). ──
    const findings = await this.scanner.scan(ctx, snapshot);
    if (findings.length > 0) throw ListingErrors.Blocked(findings);

    return this.em.transactional(async (tx) => {
      // No row lock (`FOR UPDATE` would need UPDATE on the immutable draft_versions it references): two first
      // listings of one draft meet at UNIQUE (company_id, draft_id), the second answers 409.
      const mapping = await tx.findOne(DraftListing, { draftId: source.draftId });
      const current = mapping ? await tx.findOne(Listing, { id: mapping.listingId }) : null;
      let listing: Listing;
      if (mapping && current) {
        current.replace(snapshot);
        mapping.versionId = source.versionId;
        mapping.listedBy = ctx.actingUserId;
        listing = current;
      } else {
        listing = new Listing(ctx.companyId, snapshot);
        tx.persist(listing);
        if (mapping) {
          // A mapping whose listing is gone (the key cascades, so only by hand): point it at the new one.
          mapping.listingId = listing.id;
          mapping.versionId = source.versionId;
          mapping.listedBy = ctx.actingUserId;
        } else {
          tx.persist(new DraftListing(source.draftId, source.versionId, listing.id, ctx.actingUserId));
        }
      }
      await tx.flush();
      await this.audit.record(
        {
          action: 'marketplace.listed',
          target: { type: 'Draft', id: source.draftId },
          metadata: {
            listingId: listing.id,
            versionId: source.versionId,
            version: source.version,
            replaced: current !== null,
          },
        },
        tx,
      );
      return listing;
    });
  }

  /** Unlists the draft's listing: gone from every company's marketplace at once; installed copies stay. */
  async unlist(draftId: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const mapping = await tx.findOne(DraftListing, { draftId });
      if (!mapping) {
        await this.drafts.get(draftId); // another company's draft, or none: 404 Draft, like everywhere
        throw Errors.notFound('Listing');
      }
      const listing = await tx.findOne(Listing, { id: mapping.listingId });
      const installCount = listing?.installCount ?? 0;
      tx.remove(mapping);
      if (listing) tx.remove(listing);
      await tx.flush();
      await this.audit.record(
        {
          action: 'marketplace.unlisted',
          target: { type: 'Draft', id: draftId },
          metadata: { listingId: mapping.listingId, installCount },
        },
        tx,
      );
    });
  }

  /** The draft's listing and the version it copies, for its own company (404 Listing when not listed). */
  async ofDraft(draftId: string): Promise<{ listing: Listing; versionId: string }> {
    const mapping = await this.em.findOne(DraftListing, { draftId });
    const listing = mapping ? await this.em.findOne(Listing, { id: mapping.listingId }) : null;
    if (!mapping || !listing) {
      await this.drafts.get(draftId);
      throw Errors.notFound('Listing');
    }
    return { listing, versionId: mapping.versionId };
  }

  /**
   * Withdraws every listing of the caller's company from the marketplace (`withdrawn: true`, when its deletion is
   * scheduled) or offers them again (when it is cancelled), in the caller's transaction; returns how many.
   */
  async withdrawAll(tx: EntityManager, companyId: string, withdrawn: boolean): Promise<number> {
    const listings = await tx.find(Listing, { publisherCompanyId: companyId });
    const at = withdrawn ? new Date() : null;
    for (const listing of listings) listing.withdrawnAt = at;
    await tx.flush();
    return listings.length;
  }

  /** A page of community listings, newest first (by first listing); withdrawn ones are not offered. */
  async page(query: CommunityQuery): Promise<Listing[]> {
    const where: FilterQuery<Listing> = { withdrawnAt: null };
    if (query.before !== undefined) where.id = { $lt: query.before };
    if (query.category !== undefined) where.category = query.category as Listing['category'];
    const q = query.q?.trim();
    if (q) where.name = { $ilike: `%${escapeLike(q)}%` };
    return this.em.find(Listing, where, { orderBy: { id: 'desc' }, limit: query.limit });
  }

  /** A listing on offer (not withdrawn), or null. */
  async find(listingId: string): Promise<Listing | null> {
    if (!isUuid(listingId)) return null;
    return this.em.findOne(Listing, { id: listingId, withdrawnAt: null });
  }

  /** Counts one install, in the install's transaction; a listing unlisted meanwhile refuses it (404). */
  async countInstall(tx: EntityManager, listingId: string): Promise<number> {
    const rows = await scoped<{ installCount: number | null }>(tx, LISTING_STATEMENTS.installed, [listingId]);
    const count = rows[0]?.installCount ?? null;
    if (count === null) throw Errors.notFound('Listing');
    return count;
  }
}
