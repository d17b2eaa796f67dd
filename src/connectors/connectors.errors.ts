import { defineErrors, fieldProblem } from '../common/errors/domain-errors.js';

/**
 * The connectors' domain errors and how each is answered. A missing or foreign connector stays the shared
 * `Errors.notFound`.
 */
export const ConnectorErrors = defineErrors('connectors', {
  /** The company has bound the tool already (the unique constraint `connectors_company_tool_unique`). */
  DuplicateToolId: {
    status: 409,
    code: 'CONFLICT',
    detail: (toolId: string) => `A connector is already bound to ${toolId}`,
  },
  /** A secret is bound to its origin: moving the endpoint elsewhere must not carry it along silently. */
  SecretNeededForNewOrigin: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () =>
      fieldProblem(
        'secret',
        'changing the endpoint origin (scheme, host or port) requires sending the secret again, or null to clear it',
      ),
  },
  SecretWithSchemeNone: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => fieldProblem('secret', 'authScheme none takes no secret: send secret: null to clear it'),
  },
  StoredSecretUnsuitable: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (scheme: string) =>
      fieldProblem('secret', `the stored secret does not suit authScheme ${scheme}: send a new one`),
  },
  /** `problem` is the parser's or the scheme's own words. */
  InvalidAuthScheme: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (problem: string) => fieldProblem('authScheme', problem),
  },
  InvalidSecret: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (problem: string) => fieldProblem('secret', problem),
  },
  /** The static address policy refused the URL (`reason`: which rule). */
  EndpointRefused: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (reason: string) => fieldProblem('endpointUrl', reason),
  },
});
