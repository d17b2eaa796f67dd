import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Errors } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { withGroups } from './abilities.js';
import {
  ACCESS_RESOLVER,
  ACCESS_TOKEN_VERIFIER,
  APPLICATION_SCOPES,
  type AccessResolver,
  type AccessTokenVerifier,
  type ApplicationScopes,
} from './access-ports.js';
import { API_KEY_AUTHENTICATOR, API_KEY_PREFIX, type ApiKeyAuthenticator } from './api-key-authenticator.js';
import { weakerRole } from './roles.js';

/**
 * Authentication: the request's credential (an access JWT of a user, an application or a switched-in operator,
 * or an API key) verified and resolved into its tenant context as of now. Rejects (401, or the error the
 * credential's check threw) when it is missing, invalid, or no longer holds; counting failures is the guard's.
 */
@Injectable()
export class CredentialAuthenticator {
  constructor(
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly jwt: AccessTokenVerifier,
    @Inject(ACCESS_RESOLVER) private readonly access: AccessResolver,
    @Inject(APPLICATION_SCOPES) private readonly scopes: ApplicationScopes,
    @Optional() @Inject(API_KEY_AUTHENTICATOR) private readonly apiKeys?: ApiKeyAuthenticator,
  ) {}

  async authenticate(context: ExecutionContext, request: FastifyRequest): Promise<TenantContext> {
    const header = request.headers.authorization;
    if (this.apiKeys && typeof header === 'string' && header.startsWith(`Bearer ${API_KEY_PREFIX}`)) {
      // The key's role is already intersected with its creator's current role (read on every request).
      return await this.apiKeys.authenticate(header.slice('Bearer '.length).trim());
    }
    await this.jwt.canActivate(context);
    return await this.current((request as FastifyRequest & { user: TenantContext }).user);
  }

  /**
   * An access token's context as of now: a user acts with the weaker of the token's role and their current
   * membership role (401 when the membership has ended); a switched-in operator must still hold the
   * `platform:admin` flag (401 otherwise). Application tokens keep the role they were issued with, which the
   * token endpoint capped by the application creator's role at the time (they live at most 15 minutes).
   */
  private async current(ctx: TenantContext): Promise<TenantContext> {
    if (ctx.principalType === 'user' && ctx.userId) {
      const { role, groups } = await this.access.memberAccess(ctx.companyId, ctx.userId);
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
}
