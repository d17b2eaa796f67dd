import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service.js';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { CompanySettingsCache, type CompanyRuntimeSettings } from '../companies/company-settings.cache.js';
import { AppError, Errors } from '../common/errors/app-error.js';
import { isInternalCall } from '../common/internal-call.js';
import { rateLimitHeaders, type RateLimiter, type RateLimitPolicy } from '../common/rate-limiter.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AccessCache } from '../members/access.cache.js';
import { CredentialScopes, withGroups } from '../members/credential-scopes.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { CALLS_OUT, WriteSlots } from '../tenancy/write-slots.js';
import { abilityFor } from './abilities.js';
import { API_KEY_AUTHENTICATOR, API_KEY_PREFIX, type ApiKeyAuthenticator } from './api-key-authenticator.js';
import { ROUTE_AUTH, ruleFor, type RouteAuth } from './authorize.decorator.js';
import { permissionForRule } from './permissions.js';
import { weakerRole } from './roles.js';

export const RATE_LIMITER = Symbol('RATE_LIMITER');
export { WRITE_GATE } from '../tenancy/company-write-gate.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * What a company scheduled for deletion still answers: the company itself (to restore it), sessions, and reads of
 * its audit trail (so its admins can keep a copy before the purge).
 */
const NOT_BLOCKED_BY_DELETION = new Set(['Company', 'Session', 'AuditEvent']);

/** A path parameter other than `{companyId}` makes a route a single-resource route (denials answer 404). */
export function isItemRoute(url: string): boolean {
  return /:(?!companyId\b)[A-Za-z]+/.test(url);
}

/**
 * The one global guard, deny by default:
 * 1. the route declares `@Public()`, `@Authorize(action, subject)` or `@PlatformOperator()` (else 403, logged);
 * 2. the credential (access JWT or API key) is verified and becomes the request's tenant context. A user's
 *    role is the weaker of the token's and their current membership's, and a user who is no longer a member
 *    (or a switched-in operator whose `platform:admin` flag was revoked) is refused with 401: an access token
 *    carries what was true when it was issued. Both are read through `AccessCache` (see its TTL);
 * 3. a `{companyId}` in the path must be the context's company (else 404);
 * 4. the company's rate limit is counted, and the acting person's within the company when it sets one;
 * 5. the ability of (principal, effective permissions: role ∪ groups, or a credential's scope) must allow the
 *    action (the route's one permission, see `permissions.ts`): on a single resource a denial answers 404 and is
 *    audited as `authorization.denied`; on a collection it answers 403.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly logger = new Logger('AuthorizationGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtAuthGuard,
    private readonly tenancy: TenancyService,
    private readonly audit: AuditService,
    private readonly companies: CompanySettingsCache,
    private readonly access: AccessCache,
    private readonly scopes: CredentialScopes,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    private readonly writeSlots: WriteSlots,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(API_KEY_AUTHENTICATOR) private readonly apiKeys?: ApiKeyAuthenticator,
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
      throw Errors.forbidden('This route declares no authorization');
    }
    if (meta.kind === 'public') {
      await this.count(reply, `ip:${request.ip}`, this.config.rateLimit.publicPerMinute);
      if (meta.authenticate === 'optional' && request.headers.authorization !== undefined) {
        this.tenancy.enter(await this.authenticate(context, request, reply));
      }
      return true;
    }

    const tenant = await this.authenticate(context, request, reply);
    this.tenancy.enter(tenant);
    if (meta.kind === 'platform') {
      // Navigation across companies: the path's company is the target, not the caller's.
      await this.count(reply, `operator:${tenant.principalId}`, this.config.rateLimit.publicPerMinute);
      return this.checkOperator(tenant);
    }

    // `?scope=account` on a list may select a rule of its own (see `Authorize`'s `variant`).
    const rule = ruleFor(meta, request.query);
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    if (params.companyId !== undefined && params.companyId !== tenant.companyId) {
      throw Errors.notFound('Company');
    }
    const company = await this.companies.get(tenant.companyId);
    if (!company) throw Errors.unauthenticated();
    // A company that turned operator access off ends every live switch-in (but the CLI's break-glass) at once on
    // this instance, within the settings cache's 30 s on the others.
    if (tenant.principalType === 'platform_admin' && company.operatorAccess === 'off' && !tenant.breakGlass) {
      throw Errors.unauthenticated('This company no longer admits platform operators (operatorAccess: off)');
    }
    // A transport's inner call (an MCP tool running its route) was counted as the transport's request.
    if (!isInternalCall(request.headers)) {
      await this.countTenant(reply, tenant, company);
    }

    if (company.deletionScheduled && !NOT_BLOCKED_BY_DELETION.has(rule.subject)) {
      throw Errors.forbidden('The company is scheduled for deletion; its owner can restore it');
    }
    const principalAllowed = !rule.principals || rule.principals.includes(tenant.principalType);
    const permission = permissionForRule(rule.action, rule.subject) ?? `${rule.action}:${rule.subject}`;
    if (principalAllowed && abilityFor(tenant).can(rule.action, rule.subject)) {
      const callsOut = this.reflector.get<boolean | undefined>(CALLS_OUT, context.getHandler());
      if (!READ_METHODS.has(request.method) && !callsOut) {
        // Given back when the request ends, however it ends (see WriteSlots).
        await this.writeSlots.holdForRequest(reply, tenant.companyId);
      }
      return true;
    }
    if (isItemRoute(request.routeOptions.url ?? '')) {
      await this.audit.recordAlone({
        action: 'authorization.denied',
        target: { type: rule.subject, id: (params.id ?? params.userId ?? null)?.slice(0, 100) ?? null },
        metadata: {
          permission,
          action: rule.action,
          route: `${request.method} ${request.routeOptions.url}`,
          role: tenant.role,
          principalType: tenant.principalType,
        },
      });
      throw Errors.notFound(rule.subject);
    }
    throw principalAllowed
      ? Errors.forbidden(
          `This needs the permission ${permission}, which your role (${tenant.role}) does not grant`,
        )
      : Errors.forbidden(
          `This route is not available to ${tenant.principalType.replace('_', ' ')} credentials`,
        );
  }

  private async authenticate(
    context: ExecutionContext,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<TenantContext> {
    try {
      const header = request.headers.authorization;
      if (this.apiKeys && typeof header === 'string' && header.startsWith(`Bearer ${API_KEY_PREFIX}`)) {
        // The key's role is already intersected with its creator's current role (read on every request).
        return await this.apiKeys.authenticate(header.slice('Bearer '.length).trim());
      }
      await this.jwt.canActivate(context);
      return await this.current((request as FastifyRequest & { user: TenantContext }).user);
    } catch (e) {
      // Failed credentials count against the caller's address, so guessing is rate limited too.
      await this.count(reply, `authfail:${request.ip}`, this.config.rateLimit.publicPerMinute);
      throw e instanceof AppError ? e : Errors.unauthenticated();
    }
  }

  /**
   * An access token's context as of now: a user acts with the weaker of the token's role and their current
   * membership role (401 when the membership has ended); a switched-in operator must still hold the
   * `platform:admin` flag (401 otherwise). Application tokens keep the role they were issued with, which the
   * token endpoint capped by the application creator's role at the time (they live at most 15 minutes).
   */
  private async current(ctx: TenantContext): Promise<TenantContext> {
    if (ctx.principalType === 'user' && ctx.userId) {
      const [role, groups] = await Promise.all([
        this.access.membershipRole(ctx.companyId, ctx.userId),
        this.access.userGroups(ctx.companyId, ctx.userId),
      ]);
      if (!role) throw Errors.unauthenticated('Your membership of this company has ended');
      const effective = weakerRole(ctx.role, role);
      // Effective permissions = the role's ∪ the groups' (a switched-in operator has no groups).
      return withGroups(effective === ctx.role ? ctx : { ...ctx, role: effective }, groups);
    }
    if (ctx.principalType === 'application') return this.scopes.application(ctx);
    if (ctx.principalType === 'platform_admin') {
      if (!ctx.operatorId || !(await this.access.isOperator(ctx.operatorId))) throw Errors.unauthenticated();
    }
    return ctx;
  }

  /** Platform routes: the signed-in user must hold the `platform:admin` flag, read from the database. */
  private async checkOperator(tenant: TenantContext): Promise<boolean> {
    if (tenant.principalType !== 'user' || !tenant.userId) throw Errors.forbidden('Platform operators only');
    if (!(await this.access.isOperator(tenant.userId, { fresh: true }))) {
      throw Errors.forbidden('Platform operators only');
    }
    return true;
  }

  /**
   * A company request counts against the company and, when the company sets `userRateLimitPerMinute`, against
   * the person acting (`actingUserId`: the user of a session, the creator of an API key or an application, the
   * operator of a switch-in), across all their credentials in this company. The person's bucket is counted
   * first, so a request their own limit refuses does not use up the company's. The headers name the policy
   * nearest its limit; a 429 names the policy that refused (`policy` in the body).
   */
  private async countTenant(
    reply: FastifyReply,
    tenant: TenantContext,
    company: CompanyRuntimeSettings,
  ): Promise<void> {
    const policies: { policy: RateLimitPolicy; key: string; limit: number }[] = [];
    if (company.userRateLimitPerMinute !== null && tenant.actingUserId) {
      policies.push({
        policy: 'user',
        key: `user:${tenant.companyId}:${tenant.actingUserId}`,
        limit: company.userRateLimitPerMinute,
      });
    }
    policies.push({
      policy: 'company',
      key: `company:${tenant.companyId}`,
      limit: company.rateLimitPerMinute,
    });
    const states = await this.limiter.hitAll(policies);
    // Listed company first, as `RateLimit-Policy` reads best (the wider policy, then the narrower).
    const named = policies.map((p, i) => ({ policy: p.policy, state: states[i] })).reverse();
    void reply.headers(rateLimitHeaders(named));
    const refused = named.find((n) => n.state.limited);
    if (refused) {
      throw Errors.rateLimited(
        refused.state.resetSeconds,
        refused.policy === 'user'
          ? `Too many requests from you in this company (limit ${refused.state.limit} per minute)`
          : `Too many requests for this company (limit ${refused.state.limit} per minute)`,
        refused.policy,
      );
    }
  }

  private async count(reply: FastifyReply, key: string, limit: number): Promise<void> {
    const state = await this.limiter.hit(key, limit);
    // The policy is the key's prefix (`company`, `ip`, `operator`, `authfail`).
    void reply.headers(rateLimitHeaders([{ policy: key.slice(0, key.indexOf(':')), state }]));
    if (state.limited)
      throw Errors.rateLimited(state.resetSeconds, undefined, key.slice(0, key.indexOf(':')));
  }
}
