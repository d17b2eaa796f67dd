import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors/app-error.js';
import { DraftVersionsService } from '../drafts/draft-versions.service.js';
import type { RunnableTemplate, TemplateSource } from './template-source.js';
import { TemplateCatalog } from './template-catalog.js';
import { TemplateErrors } from './templates.errors.js';

/**
 * What a run starts from, in the current company: a catalog template by id, or a published version of one of
 * the company's drafts. Definitions are returned as copies: a run can never change the catalog or a version.
 */
@Injectable()
export class TemplateSourceService implements TemplateSource {
  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly drafts: DraftVersionsService,
  ) {}

  async forRun(ref: { templateId?: string; draftVersionId?: string }): Promise<RunnableTemplate> {
    const { templateId, draftVersionId } = ref;
    if ((templateId === undefined) === (draftVersionId === undefined)) {
      throw TemplateErrors.SourceNotOne();
    }
    if (draftVersionId !== undefined) return this.drafts.runnableVersion(draftVersionId);
    const entry = this.catalog.findById(templateId!);
    if (!entry) throw Errors.notFound('Template');
    return {
      source: 'template',
      id: entry.id,
      key: entry.definition.key,
      version: entry.definition.version,
      definition: structuredClone(entry.definition),
    };
  }
}
