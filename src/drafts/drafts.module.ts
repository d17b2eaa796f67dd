import { Module } from '@nestjs/common';
import { CatalogModule } from '../templates/catalog.module.js';
import { DraftsController } from './drafts.controller.js';
import { DraftsService } from './drafts.service.js';

/** Company drafts and their published versions. Exports the service (marketplace installs, run sources). */
@Module({
  imports: [CatalogModule],
  controllers: [DraftsController],
  providers: [DraftsService],
  exports: [DraftsService],
})
export class DraftsModule {}
