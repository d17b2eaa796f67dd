import { defineErrors } from '../common/errors/domain-errors.js';
import type { ListingFinding } from './listing-scanner.js';

/**
 * The listings' domain errors and how each is answered. A draft that is not listed (or not the company's) stays
 * the shared `Errors.notFound`.
 */
export const ListingErrors = defineErrors('listings', {
  /** 422 `DLP_BLOCKED`: detectors and field paths, never the matched text. */
  Blocked: {
    status: 422,
    code: 'DLP_BLOCKED',
    detail: (findings: readonly ListingFinding[]) => {
      const errors = findings.map((f) => ({
        field: f.path,
        message: `${f.detector}${f.kind ? ` (${f.kind})` : ''} detected`,
      }));
      const detectors = [...new Set(findings.map((f) => f.detector))].join(', ');
      return {
        detail: `The listing was refused: ${findings.length} finding(s) of ${detectors}; remove them from the draft, publish and list again`,
        errors,
      };
    },
  },
});
