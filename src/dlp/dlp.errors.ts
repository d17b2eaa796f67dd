import type { FieldError } from '../common/errors/app-error.js';
import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';
import type { Hit } from './dlp-scan.js';

/** The DLP errors and how each is answered: a refused value, and policies the rules cannot take. */
export const DlpErrors = defineErrors('dlp', {
  /** 422: the detector and field path of each blocking finding (`blocking`: those to name), never the value. */
  Blocked: {
    status: 422,
    code: 'DLP_BLOCKED',
    detail: (blocking: readonly Hit[]) => {
      const errors = blocking.map((h): FieldError => ({
        field: h.path,
        path: h.path,
        detector: h.detector,
        message: `contains data the company's DLP policy blocks (${h.detector})`,
      }));
      const named = [...new Set(blocking.map((h) => `${h.detector} at ${h.path}`))].join(', ');
      return { detail: `Refused by the company's DLP policy: ${named}`, errors };
    },
  },
  TooManyCustomRules: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (index: number, max: number) =>
      fieldProblem(`rules.${index}`, `at most ${max} custom rules per policy`),
  },
  PatternRequired: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (index: number) => fieldProblem(`rules.${index}.pattern`, 'is required for custom rules'),
  },
  PatternNotAllowed: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (index: number) =>
      fieldProblem(`rules.${index}.pattern`, 'is only allowed with the custom detector'),
  },
  /** A custom pattern the safe-regex check refuses; `reason` says why. */
  UnsafePattern: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (index: number, reason: string) => fieldProblem(`rules.${index}.pattern`, reason),
  },
});
