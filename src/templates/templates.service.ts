import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors/app-error.js';
import type { Page } from '../common/pagination.js';
import type { CatalogTemplate } from './catalog.js';
import type { CatalogQueryDto, TemplateDto, TemplateSummaryDto } from './dto/template.dto.js';
import { TemplateCatalog } from './template-catalog.js';

export function toTemplateSummary({ id, definition: d }: CatalogTemplate): TemplateSummaryDto {
  return {
    id,
    key: d.key,
    version: d.version,
    name: d.name,
    description: d.description,
    category: d.category,
    stepCount: d.steps.length,
  };
}

export function toTemplateDto(entry: CatalogTemplate): TemplateDto {
  return {
    ...toTemplateSummary(entry),
    inputSchema: entry.definition.inputSchema,
    steps: entry.definition.steps,
  };
}

/** The governed catalog, read-only and the same for every company. */
@Injectable()
export class TemplatesService {
  constructor(private readonly catalog: TemplateCatalog) {}

  list(query: CatalogQueryDto): Page<TemplateSummaryDto> {
    const page = this.catalog.list(query);
    return { data: page.data.map(toTemplateSummary), nextCursor: page.nextCursor };
  }

  get(id: string): TemplateDto {
    const entry = this.catalog.findById(id);
    if (!entry) throw Errors.notFound('Template');
    return toTemplateDto(entry);
  }
}
