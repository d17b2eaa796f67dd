import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';
import { etagOf } from '../common/if-match.js';

/**
 * The boards' domain errors and how each is answered. A missing or foreign board, column or card stays the shared
 * `Errors.notFound` (the same 404 for every feature, whichever wall refused).
 */
export const BoardErrors = defineErrors('boards', {
  WipLimitReached: {
    status: 409,
    code: 'WIP_LIMIT',
    detail: (column: string, wipLimit: number) =>
      `The column "${column}" is at its WIP limit of ${wipLimit} card(s)`,
  },
  ColumnNotEmpty: {
    status: 409,
    code: 'CONFLICT',
    detail: (cards: number) => `The column holds ${cards} card(s): move or delete them first`,
  },
  ColumnAfterItself: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('afterColumnId', 'must be another column'),
  },
});

/** The cards' domain errors (cards live in the boards feature). */
export const CardErrors = defineErrors('cards', {
  /** 412: `If-Match` names another version; the body and the ETag carry the current one. */
  Stale: {
    status: 412,
    code: 'PRECONDITION_FAILED',
    detail: (current: number) => ({
      detail: `The card changed since you read it: its current version is ${current}; read it again and retry`,
      headers: { ETag: etagOf(current) },
      extensions: { currentVersion: current },
    }),
  },
  DescriptionTooLong: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('description', 'must be at most 64 KiB (UTF-8)'),
  },
  /** A move next to the card itself; `field` is the neighbour that names it. */
  NextToItself: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (field: 'afterCardId' | 'beforeCardId') => fieldProblem(field, 'must be another card'),
  },
  NeighboursOutOfOrder: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('beforeCardId', 'must come after afterCardId in the column'),
  },
});
