import { Module } from '@nestjs/common';
import { DraftsModule } from '../drafts/drafts.module.js';
import { LISTING_SCANNER, SecretListingScanner } from './listing-scanner.js';
import { ListingsController } from './listings.controller.js';
import { ListingsService } from './listings.service.js';

/**
 * Community listings: `POST/DELETE /v1/drafts/{id}/listing` and the rows the marketplace reads. The DLP
 * service replaces `LISTING_SCANNER` (the default refuses known secret formats).
 */
@Module({
  imports: [DraftsModule],
  controllers: [ListingsController],
  providers: [ListingsService, { provide: LISTING_SCANNER, useClass: SecretListingScanner }],
  exports: [ListingsService],
})
export class ListingsModule {}
