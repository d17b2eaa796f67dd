import { Module } from '@nestjs/common';
import { TemplateCatalog } from './template-catalog.js';

/**
 * The governed catalog as a provider, loaded once when the application starts (a bad catalog file stops the
 * start, naming the file). Its own module so that drafts, templates and the marketplace can share it.
 */
@Module({
  providers: [{ provide: TemplateCatalog, useFactory: () => TemplateCatalog.load() }],
  exports: [TemplateCatalog],
})
export class CatalogModule {}
