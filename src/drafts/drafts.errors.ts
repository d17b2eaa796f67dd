import { defineErrors } from '../common/errors/domain-errors.js';
import type { FieldError } from '../templates/definition.js';

/**
 * The drafts' domain errors and how each is answered. A missing, foreign or hidden draft or version stays the
 * shared `Errors.notFound` (a member's denied draft answers exactly like a missing one).
 */
export const DraftErrors = defineErrors('drafts', {
  /** 400 with every error of the definition validator, paths as the body has them (`''` → `body`). */
  InvalidDefinition: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (errors: FieldError[]) => {
      const list = errors.map((e) => ({ field: e.field === '' ? 'body' : e.field, message: e.message }));
      const first = list[0] ?? { field: 'body', message: 'is invalid' };
      const more = list.length > 1 ? ` (and ${list.length - 1} more)` : '';
      return { detail: `Invalid template definition: ${first.field} ${first.message}${more}`, errors: list };
    },
  },
  /** 409 about the key, with the field named like a validation error. */
  KeyConflict: {
    status: 409,
    code: 'CONFLICT',
    detail: (message: string) => ({ detail: `key ${message}`, errors: [{ field: 'key', message }] }),
  },
  AlreadyPublished: {
    status: 409,
    code: 'CONFLICT',
    detail: (version: number | null) =>
      `The draft is already published as version ${version} and has not changed since`,
  },
  NotPublished: { status: 409, code: 'CONFLICT', detail: 'The draft is not published' },
  VersionUnpublished: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The draft of this version is unpublished: no new runs can start from it',
  },
  NothingToList: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The draft has no published version: publish it before listing it',
  },
  UnpublishedNotListable: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The draft is unpublished: publish it again before listing it',
  },
});
