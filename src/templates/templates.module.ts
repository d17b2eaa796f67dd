import { Module } from '@nestjs/common';
import { DraftsModule } from '../drafts/drafts.module.js';
import { CatalogModule } from './catalog.module.js';
import { TEMPLATE_SOURCE } from './template-source.js';
import { TemplateSourceService } from './template-source.service.js';
import { TemplatesController } from './templates.controller.js';
import { TemplatesService } from './templates.service.js';

/**
 * The governed catalog over HTTP (read-only), and the run contract: import this module and inject
 * `TEMPLATE_SOURCE` to resolve a `templateId` or a `draftVersionId` into a runnable definition.
 */
@Module({
  imports: [CatalogModule, DraftsModule],
  controllers: [TemplatesController],
  providers: [
    TemplatesService,
    TemplateSourceService,
    { provide: TEMPLATE_SOURCE, useExisting: TemplateSourceService },
  ],
  exports: [TEMPLATE_SOURCE],
})
export class TemplatesModule {}
