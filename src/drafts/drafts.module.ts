import { Module } from '@nestjs/common';
import { CatalogModule } from '../templates/catalog.module.js';
import { DraftAccess } from './draft-access.js';
import { DraftKeys } from './draft-keys.js';
import { DraftVersionsService } from './draft-versions.service.js';
import { DraftsController } from './drafts.controller.js';
import { DraftsService } from './drafts.service.js';

/**
 * Company drafts and their published versions. Exports the services (marketplace installs and listings, run
 * sources).
 */
@Module({
  imports: [CatalogModule],
  controllers: [DraftsController],
  providers: [DraftsService, DraftVersionsService, DraftAccess, DraftKeys],
  exports: [DraftsService, DraftVersionsService],
})
export class DraftsModule {}
