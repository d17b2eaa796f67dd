import { defineErrors } from '../common/errors/domain-errors.js';

/** The templates' domain errors and how each is answered. An unknown template id stays `Errors.notFound`. */
export const TemplateErrors = defineErrors('templates', {
  /** A run names what it starts from once: a catalog template or a draft version, never both or neither. */
  SourceNotOne: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => ({
      detail: 'Give exactly one of templateId and draftVersionId',
      errors: [{ field: 'templateId', message: 'give exactly one of templateId and draftVersionId' }],
    }),
  },
});
