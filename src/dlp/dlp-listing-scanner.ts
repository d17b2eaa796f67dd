import { Injectable } from '@nestjs/common';
import { findSecrets, type ListingFinding, type ListingScanner } from '../listings/listing-scanner.js';
import type { ListingSnapshot } from '../listings/listing.entity.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DlpService } from './dlp.service.js';

/**
 * The marketplace's `LISTING_SCANNER` (src/listings/listing-scanner.ts), backed by DLP: a listing passes the
 * secret detectors always (`findSecrets`: every kind of `SECRET_KINDS`, reported with its kind; DLP's `secret`
 * detector runs the same list) and the publishing company's `listing` rules.
 *
 * - A finding of either, or a `block` rule, refuses the listing: the findings (detector, kind, field path) go
 *   back to the listing service, which answers 422 `DLP_BLOCKED`, and `dlp.blocked` is recorded here in a
 *   transaction of its own (the listing is not stored).
 * - `redact` rules rewrite the snapshot the service handed over (its own fresh copy, about to be stored), and
 *   `dlp.redacted` / `dlp.detected` are recorded on their own: the scanner interface does not reach the listing's
 *   transaction, so these two events commit just before the listing does rather than with it.
 */
@Injectable()
export class DlpListingScanner implements ListingScanner {
  constructor(private readonly dlp: DlpService) {}

  async scan(_ctx: TenantContext, snapshot: ListingSnapshot): Promise<ListingFinding[]> {
    const named = findSecrets(snapshot);
    const result = await this.dlp.inspectListing(snapshot, '');
    const blocking = result.hits.filter((h) => h.action === 'block');
    if (named.length > 0 || blocking.length > 0) {
      const seen = new Set(named.map((f) => f.path.replace(/ \(key\)$/, '')));
      const findings = [
        ...named,
        ...blocking
          .filter((h) => !(h.detector === 'secret' && seen.has(h.path)))
          .map((h): ListingFinding => ({ detector: h.detector, path: h.path })),
      ];
      const hits = [
        ...named.map((f) => ({
          detector: 'secret' as const,
          action: 'block' as const,
          path: f.path,
          count: 1,
        })),
        ...blocking.filter((h) => !(h.detector === 'secret' && seen.has(h.path))),
      ];
      await this.dlp.recordBlocked('listing', hits, { type: 'Listing', id: null });
      return findings;
    }
    if (result.value !== snapshot) Object.assign(snapshot, result.value);
    await this.dlp.recordAlone('listing', result, { type: 'Listing', id: null });
    return [];
  }
}
