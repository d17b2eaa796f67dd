import type { TemplateDefinition } from './definition.js';

/** A template version a run can start from: a catalog entry or a company's published draft version. */
export interface RunnableTemplate {
  /** `template` for the governed catalog, `draft` for a company's published draft version. */
  source: 'template' | 'draft';
  /** The catalog template id, or the draft version id. */
  id: string;
  key: string;
  version: number;
  definition: TemplateDefinition;
}

/**
 * Contract between runs and templates/drafts: resolves what a run starts from, in the current company.
 * Implemented by the templates module; an unknown id (or another company's draft version) throws
 * `Errors.notFound('Template')` / `Errors.notFound('DraftVersion')`.
 */
export interface TemplateSource {
  forRun(ref: { templateId?: string; draftVersionId?: string }): Promise<RunnableTemplate>;
}

export const TEMPLATE_SOURCE = Symbol('TEMPLATE_SOURCE');
