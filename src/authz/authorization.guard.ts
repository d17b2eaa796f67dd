import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Errors } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { CALLS_OUT } from '../tenancy/write-slots.js';
import {
  ACCESS_RESOLVER,
  COMPANY_RUNTIME_SETTINGS,
  type AccessResolver,
  type CompanyRuntimeSettings,
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
import { takeTransportCall, type TransportCall } from './transport-call.js';

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
 * A route run by a transport in process (an MCP tool call, `transport-call.ts`) is counted once in all, passes the
 * transport's own rule after step 4, and a refusal by its own rule means the tool is not offered (not audited).
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
    // First, before any await: the handle belongs to this request only (see transport-call.ts).
    const call = takeTransportCall();
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
      tenant = call?.verified ?? (await this.credentials.authenticate(context, request));
    } catch (e) {
      await this.limits.countAuthFailure(reply, request.ip);
      throw e instanceof AppError ? e : Errors.unauthenticated();
    }
    if (call) call.tenant = tenant;
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
    // A transport call whose transport request was verified was counted as that request (see transport-call.ts).
    if (!call?.verified) await this.limits.countTenant(reply, tenant, company);
    if (call) admitTransportCall(call, company, tenant);
    assertNotBeingDeleted(company, rule);

    const refused = refusal(rule, tenant);
    if (refused !== undefined && call) {
      // The tool is not offered to this credential: nothing of the route ran, no denial to audit.
      call.notOffered = true;
      throw Errors.notFound(rule.subject);
    }
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

/** The transport's own checks of a transport call (its rule, as on its own route), then the route's apply. */
function admitTransportCall(
  call: TransportCall,
  company: CompanyRuntimeSettings,
  tenant: TenantContext,
): void {
  assertNotBeingDeleted(company, call.rule);
  const refused = refusal(call.rule, tenant);
  if (refused !== undefined) throw refusalError(refused, call.rule, tenant);
  call.admitted = true;
}

/** The guard's collaborators, registered beside it by the app module (the composition root). */
export const AUTHORIZATION_PROVIDERS = [CredentialAuthenticator, RequestLimits, DenialAudit];
