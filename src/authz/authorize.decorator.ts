import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, ApiSecurity, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from '../common/dto/problem.dto.js';
import type { PrincipalType } from '../tenancy/request-store.js';
import type { Action, SubjectName } from './abilities.js';

export const ROUTE_AUTH = 'tenantry:route-auth';

/** What an `@Authorize` route requires: `action` on `subject`, by one of `principals` (any when absent). */
export interface AbilityRule {
  action: Action;
  subject: SubjectName;
  principals?: PrincipalType[];
}

/**
 * A rule of its own for one value of a query parameter. `GET /v1/applications?scope=account` reads across the
 * caller's companies, so what the caller may do in the active company is not what it needs: it has its own rule.
 */
export interface QueryVariant extends AbilityRule {
  query: string;
  value: string;
}

export type RouteAuth =
  | { kind: 'public'; authenticate?: 'optional' }
  | ({ kind: 'ability'; variant?: QueryVariant; transport?: boolean } & AbilityRule)
  | { kind: 'platform' };

/** The rule that applies to a request of an `@Authorize` route: its variant's when the query selects it. */
export function ruleFor(meta: AbilityRule & { variant?: QueryVariant }, query: unknown): AbilityRule {
  const variant = meta.variant;
  if (variant && typeof query === 'object' && query !== null) {
    if ((query as Record<string, unknown>)[variant.query] === variant.value) return variant;
  }
  return meta;
}

/** An error response, documented as RFC 9457 problem+json. */
export const ProblemResponse = (status: number, description: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
  });
const problem = ProblemResponse;

// Factories, not shared instances: Swagger's decorators keep state per application.
const COMMON_ERRORS = () => [
  ApiExtraModels(ProblemDto),
  problem(400, 'Invalid input (VALIDATION_FAILED), with each field listed'),
  problem(429, 'Rate limited (RATE_LIMITED); see Retry-After'),
  problem(500, 'Unexpected error (INTERNAL); quote the request id'),
];

const AUTHENTICATED_ERRORS = () => [
  ApiSecurity('bearer'),
  ApiSecurity('apiKey'),
  ApiSecurity('oauth2'),
  problem(401, 'Missing, expired or invalid credential (UNAUTHENTICATED)'),
  problem(403, 'The role does not allow this on a collection (FORBIDDEN)'),
  problem(404, 'Not found, not yours, or not allowed on this resource (NOT_FOUND)'),
];

/**
 * A route anyone may call (sign-up, login, token, health). With `{ authenticate: 'optional' }` a credential,
 * when one is sent, is verified (401 if invalid) and scopes the request like on any other route
 * (read it with `@OptionalTenant()`): accepting an invitation as a signed-in user, for example.
 */
export function Public(options: { authenticate?: 'optional' } = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_AUTH, { kind: 'public', ...options } satisfies RouteAuth),
    ...COMMON_ERRORS(),
    ...(options.authenticate ? [ApiSecurity('bearer'), ApiSecurity({})] : []),
  );
}

/**
 * A route that needs a verified credential whose ability allows `action` on `subject`. Binds the metadata the
 * global guard reads and documents the security schemes and error responses at once.
 * On a single resource (a path with an id) a denial answers 404 and is audited; on a collection, 403.
 * `variant` gives one value of a query parameter a rule of its own (the guard checks that one instead).
 */
export function Authorize(
  action: Action,
  subject: SubjectName,
  options: {
    principals?: PrincipalType[];
    variant?: QueryVariant;
    /** A transport (`/mcp`): it holds no write slot itself; the routes its messages run hold theirs. */
    transport?: boolean;
  } = {},
): MethodDecorator & ClassDecorator {
  const meta: RouteAuth = { kind: 'ability', action, subject, ...options };
  return applyDecorators(SetMetadata(ROUTE_AUTH, meta), ...AUTHENTICATED_ERRORS(), ...COMMON_ERRORS());
}

/** A platform-operator route (`platform:admin` users only): navigation, never tenant data. */
export function PlatformOperator(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_AUTH, { kind: 'platform' } satisfies RouteAuth),
    ...AUTHENTICATED_ERRORS(),
    ...COMMON_ERRORS(),
  );
}
