import { defineErrors, type ProblemParts } from '../common/errors/domain-errors.js';

/**
 * The applications' domain errors and how each is answered. A missing or foreign application (or one a credential
 * may not manage) stays the shared `Errors.notFound`.
 */
export const ApplicationErrors = defineErrors('applications', {
  CreatorNotAPerson: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'Applications are created by people, not by other credentials',
  },
  RoleAboveOwn: {
    status: 403,
    code: 'FORBIDDEN',
    detail: (ownRole: string) => `An application's role cannot be above your own role (${ownRole})`,
  },
  /** `?scope=account` lists the applications of every company of the caller: a person's own view. */
  AccountScopeNotAPerson: {
    status: 403,
    code: 'FORBIDDEN',
    detail: 'The account scope is only available to people signed in as themselves',
  },
});

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** RFC 6749 §5.2: the RFC's `error` and `error_description` as extension members, never cached. */
function oauthParts(error: string, description: string, headers: Record<string, string>): ProblemParts {
  return { detail: description, headers, extensions: { error, error_description: description } };
}

/**
 * The token endpoint's errors (RFC 6749 §5.2) as problem+json. Every 401 names the Basic scheme (§5.2: a client
 * that authenticated with the header gets it back; HTTP wants it on any 401), and nothing about an error tells
 * whether a client id exists.
 */
export const OAuthErrors = defineErrors('oauth', {
  InvalidClient: {
    status: 401,
    code: 'UNAUTHENTICATED',
    detail: () =>
      oauthParts('invalid_client', 'Client authentication failed', {
        ...NO_STORE,
        'WWW-Authenticate': 'Basic realm="tenantry"',
      }),
  },
  InvalidRequest: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: (description: string) => oauthParts('invalid_request', description, NO_STORE),
  },
  UnsupportedGrantType: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () =>
      oauthParts('unsupported_grant_type', 'Only grant_type=client_credentials is supported', NO_STORE),
  },
  InvalidScope: {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: () => oauthParts('invalid_scope', 'No scopes are defined: omit scope', NO_STORE),
  },
});
