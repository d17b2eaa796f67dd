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
 * Implemented by the templates module (`TemplatesModule` exports `TEMPLATE_SOURCE`); an unknown id (or another
 * company's draft version, or a version of a deleted draft) throws the shared 404 (`Errors.notFound`, 'Template'
 * or 'DraftVersion'); a version of an unpublished draft throws `DraftErrors.VersionUnpublished` (409); giving
 * both ids or neither throws `TemplateErrors.SourceNotOne` (400). The definition returned is the caller's own copy.
 */
export interface TemplateSource {
  forRun(ref: { templateId?: string; draftVersionId?: string }): Promise<RunnableTemplate>;
}

export const TEMPLATE_SOURCE = Symbol('TEMPLATE_SOURCE');
