import { Module } from '@nestjs/common';
import { DraftsModule } from '../drafts/drafts.module.js';
import { DlpListingScanner } from '../dlp/dlp-listing-scanner.js';
import { LISTING_SCANNER } from './listing-scanner.js';
import { ListingsController } from './listings.controller.js';
import { ListingsService } from './listings.service.js';

/**
 * Community listings: `POST/DELETE /v1/drafts/{id}/listing` and the rows the marketplace reads. Listings are
 * scanned by DLP (`DlpListingScanner`: the secret detectors always, plus the publisher's `listing` rules).
 */
@Module({
  imports: [DraftsModule],
  controllers: [ListingsController],
  providers: [ListingsService, { provide: LISTING_SCANNER, useExisting: DlpListingScanner }],
  exports: [ListingsService],
})
export class ListingsModule {}
