import { Injectable } from '@nestjs/common';
import { intersectPermissions, rolePermissions, unionPermissions } from '../authz/permissions.js';
import type { Role } from '../authz/roles.js';
import { Application } from '../applications/application.entity.js';
import type { ApplicationScopes } from '../authz/access-ports.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { ACCESS_CACHE_TTL_MS as ACCESS_TTL, AccessCache } from './access.cache.js';

/**
 * Scoped machine credentials: an API key or an application created with `permissions` acts with that list ∩ its
 * creator's current effective permissions (role ∪ groups) ∩ its own role's, evaluated at every request (the
 * creator's role and groups through `AccessCache`, so within its TTL). Without a list, the role alone applies.
 */
@Injectable()
export class CredentialScopes implements ApplicationScopes {
  private readonly applications = new Map<string, { at: number; value: Promise<readonly string[] | null> }>();

  constructor(
    private readonly access: AccessCache,
    private readonly tenancy: TenancyService,
  ) {}

  /** The creator's effective permissions now (role ∪ groups), or null when they are no longer a member. */
  async creatorPermissions(
    companyId: string,
    userId: string,
    role?: Role,
  ): Promise<readonly string[] | null> {
    const access = await this.access.memberAccess(companyId, userId);
    const current = role ?? access.role;
    if (!current) return null;
    const groups = access.groups;
    return unionPermissions(rolePermissions(current), groups.permissions);
  }

  /** A credential's context narrowed to its scope (`scope` null: its role alone, as without permissions). */
  async narrow(
    ctx: TenantContext,
    scope: readonly string[] | null,
    creatorRole?: Role,
  ): Promise<TenantContext> {
    if (!scope) return ctx;
    const creator = await this.creatorPermissions(ctx.companyId, ctx.actingUserId, creatorRole);
    const permissions = intersectPermissions(
      intersectPermissions(scope, creator ?? []),
      rolePermissions(ctx.role),
    );
    return { ...ctx, permissions };
  }

  /** An application token's context: narrowed by the application's `permissions`, read at most once per TTL. */
  async application(ctx: TenantContext): Promise<TenantContext> {
    return this.narrow(ctx, await this.applicationScope(ctx));
  }

  /** After an application's permissions changed or it was deleted (this instance sees it at once). */
  forgetApplication(applicationId: string): void {
    this.applications.delete(applicationId);
  }

  private applicationScope(ctx: TenantContext): Promise<readonly string[] | null> {
    const now = performance.now();
    const hit = this.applications.get(ctx.principalId);
    if (hit && now - hit.at < ACCESS_TTL) return hit.value;
    const value = this.tenancy.run(ctx, async (em) => {
      const app = await em.findOne(Application, { id: ctx.principalId }, { fields: ['permissions'] });
      return app?.permissions ?? null;
    });
    if (this.applications.size >= 50_000) this.applications.clear();
    const entry = { at: now, value };
    this.applications.set(ctx.principalId, entry);
    value.catch(() => {
      if (this.applications.get(ctx.principalId) === entry) this.applications.delete(ctx.principalId);
    });
    return value;
  }
}
