import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';
import { etagOf } from '../common/if-match.js';
import { MAX_BODY_BYTES } from './wiki-page.entity.js';

/**
 * The wiki's domain errors and how each is answered. A missing, foreign or hidden page or revision stays the
 * shared `Errors.notFound` (a member's denied page answers exactly like a missing one).
 */
export const WikiErrors = defineErrors('wiki', {
  /**
   * 412: the page changed since the version the caller based its change on; the body names the current one
   * (`currentVersion` a string here, as the wiki has always answered; cards answer a number).
   */
  Stale: {
    status: 412,
    code: 'PRECONDITION_FAILED',
    detail: (current: number) => ({
      detail: `The page has changed: its current version is ${current}; reload it and apply your change again`,
      headers: { ETag: etagOf(current) },
      extensions: { currentVersion: String(current) },
    }),
  },
  /** 409 about the slug, with the field named like a validation error. */
  SlugTaken: {
    status: 409,
    code: 'CONFLICT',
    detail: (slug: string) => {
      const message = `"${slug}" is already the slug of another page of the company`;
      return { detail: `slug ${message}`, errors: [{ field: 'slug', message }] };
    },
  },
  EmptyTitle: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('title', 'must not be empty'),
  },
  BodyTooLarge: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('body', `must be at most 1 MiB (${MAX_BODY_BYTES} bytes of UTF-8)`),
  },
  HasDescendants: {
    status: 409,
    code: 'CONFLICT',
    detail: (descendants: number) =>
      `The page has ${descendants} descendant page(s); delete them first or pass ?cascade=true`,
  },
  /** A cascading delete by someone who may not delete every page of the subtree. */
  SubtreeNotOwned: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'The subtree holds pages created by other people: only a manager may delete it at once',
  },
  MoveUnderItself: {
    status: 409,
    code: 'CONFLICT',
    detail: 'A page cannot be moved under itself or one of its descendants',
  },
});
