import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Errors } from '../common/errors/app-error.js';
import { isInternalCall } from '../common/internal-call.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { CALLS_OUT } from '../tenancy/write-slots.js';
import {
  ACCESS_RESOLVER,
  COMPANY_RUNTIME_SETTINGS,
  type AccessResolver,
  type CompanyRuntimeSettingsSource,
} from './access-ports.js';
import {
  assertCompanyInPath,
  assertNotBeingDeleted,
  assertOperatorAdmitted,
  isItemRoute,
  refusal,
  refusalError,
  requirePlatformOperator,
} from './access-policy.js';
import { ROUTE_AUTH, ruleFor, type RouteAuth } from './authorize.decorator.js';
import { CredentialAuthenticator } from './credential-authenticator.js';
import { DenialAudit } from './denial-audit.js';
import { isWrite, RequestLimits } from './request-limits.js';
import { AuthzErrors } from './authz.errors.js';

/**
 * The one global guard, deny by default. It decides the order; each concern is a collaborator of its own:
 * authentication (`CredentialAuthenticator`), tenancy scope and ability (`access-policy.ts`), request limits
 * (`RequestLimits`) and the audit of denials (`DenialAudit`). What it needs of features comes through the ports
 * of `access-ports.ts`.
 * 1. the route declares `@Public()`, `@Authorize(action, subject)` or `@PlatformOperator()` (else 403, logged);
 * 2. the credential (access JWT or API key) is verified and becomes the request's tenant context. A user's
 *    role is the weaker of the token's and their current membership's, and a user who is no longer a member
 *    (or a switched-in operator whose `platform:admin` flag was revoked) is refused with 401: an access token
 *    carries what was true when it was issued. Both are read through the members' access cache (see its TTL);
 *    a failed credential counts against the caller's address;
 * 3. a `{companyId}` in the path must be the context's company (else 404);
 * 4. the company's rate limit is counted, and the acting person's within the company when it sets one;
 * 5. the ability of (principal, effective permissions: role ∪ groups, or a credential's scope) must allow the
 *    action (the route's one permission, see `permissions.ts`): on a single resource a denial answers 404 and is
 *    audited as `authorization.denied`; on a collection it answers 403. An allowed write takes a write slot.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly logger = new Logger('AuthorizationGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly tenancy: TenancyService,
    private readonly credentials: CredentialAuthenticator,
    private readonly limits: RequestLimits,
    private readonly denials: DenialAudit,
    @Inject(COMPANY_RUNTIME_SETTINGS) private readonly companies: CompanyRuntimeSettingsSource,
    @Inject(ACCESS_RESOLVER) private readonly access: AccessResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.getAllAndOverride<RouteAuth | undefined>(ROUTE_AUTH, [
      context.getHandler(),
      context.getClass(),
    ]);
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();

    if (!meta) {
      this.logger.error(
        `Route ${request.method} ${request.routeOptions.url} declares no authorization: denied`,
      );
      throw AuthzErrors.NoRule();
    }
    if (meta.kind === 'public') {
      await this.limits.countPublic(reply, request.ip);
      if (meta.authenticate !== 'optional' || request.headers.authorization === undefined) return true;
    }

    let tenant: TenantContext;
    try {
      tenant = await this.credentials.authenticate(context, request);
    } catch (e) {
      await this.limits.countAuthFailure(reply, request.ip);
      throw e instanceof AppError ? e : Errors.unauthenticated();
    }
    this.tenancy.enter(tenant);
    if (meta.kind === 'public') return true;
    if (meta.kind === 'platform') {
      // Navigation across companies: the path's company is the target, not the caller's.
      await this.limits.countOperator(reply, tenant.principalId);
      return requirePlatformOperator(this.access, tenant);
    }

    // `?scope=account` on a list may select a rule of its own (see `Authorize`'s `variant`).
    const rule = ruleFor(meta, request.query);
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    assertCompanyInPath(params.companyId, tenant);
    const company = await this.companies.get(tenant.companyId);
    if (!company) throw Errors.unauthenticated();
    assertOperatorAdmitted(company, tenant);
    // A transport's inner call (an MCP tool running its route) was counted as the transport's request.
    if (!isInternalCall(request.headers)) {
      await this.limits.countTenant(reply, tenant, company);
    }
    assertNotBeingDeleted(company, rule);

    const refused = refusal(rule, tenant);
    if (refused === undefined) {
      if (
        isWrite(request.method) &&
        !this.reflector.get<boolean | undefined>(CALLS_OUT, context.getHandler())
      ) {
        // Given back when the request ends, however it ends (see WriteSlots).
        await this.limits.holdWriteSlot(reply, tenant.companyId);
      }
      return true;
    }
    if (isItemRoute(request.routeOptions.url ?? '')) {
      await this.denials.record(request, rule, tenant, params);
      throw Errors.notFound(rule.subject);
    }
    throw refusalError(refused, rule, tenant);
  }
}

/** The guard's collaborators, registered beside it by the app module (the composition root). */
export const AUTHORIZATION_PROVIDERS = [CredentialAuthenticator, RequestLimits, DenialAudit];
