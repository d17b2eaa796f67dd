import { defineErrors } from '../common/errors/domain-errors.js';

/**
 * The companies' domain errors and how each is answered. A missing company (or another one in the path) stays the
 * shared `Errors.notFound`.
 */
export const CompanyErrors = defineErrors('companies', {
  /** A company scheduled for deletion answers only what its owner needs to restore it or keep a copy. */
  NotScheduledForDeletion: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The company is not scheduled for deletion',
  },
  GraceWindowEnded: {
    status: 409,
    code: 'CONFLICT',
    detail: 'The grace window has ended; the company is being purged',
  },
  SlugExhausted: {
    status: 409,
    code: 'CONFLICT',
    detail: 'Could not derive a unique slug for this company name',
  },
  /** An update that sets none of the settings. */
  NothingToChange: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (settings: readonly string[]) => ({
      detail: `Send at least one of ${settings.join(', ')}`,
      errors: [{ field: 'body', message: `must set at least one of ${settings.join(', ')}` }],
    }),
  },
  /** The operators' policy is the company's own: a switched-in operator cannot loosen (or tighten) it. */
  OperatorSetsOperatorAccess: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'A switched-in platform operator cannot change operatorAccess',
  },
  /** The guard checked the token; a demotion since it was issued counts now. */
  PermissionNotHeld: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (permission: string) => `This needs the permission ${permission}, which you do not hold`,
  },
});
