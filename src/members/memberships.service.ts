import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { weakerRole, type Role } from '../authz/roles.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { identityScope } from '../tenancy/scoped.js';
import type { User } from '../users/user.entity.js';
import { Membership } from './membership.entity.js';
import { MemberErrors } from './members.errors.js';

/** Memberships: who belongs to which company, with which role. */
@Injectable()
export class MembershipsService {
  constructor(private readonly em: EntityManager) {}

  /** Adds `user` to the context's company (persisted on `em`). */
  add(em: EntityManager, user: User, role: Role): Membership {
    const membership = new Membership(user, role);
    em.persist(membership);
    return membership;
  }

  /** The user's membership in the context's company, or null. */
  findInCompany(userId: string, em: EntityManager = this.em): Promise<Membership | null> {
    return em.findOne(Membership, { user: userId });
  }

  /**
   * The role the caller holds *now*, for rules that grant or take away rights: an access token carries the role
   * of when it was issued (≤ 15 minutes ago), so for a user it is intersected with their current membership.
   * A user whose membership ended meanwhile is refused at once (401), whatever their token still says.
   * Other principals hold no membership of their own: their role is the credential's (an API key's is
   * re-derived from its creator's current role on every request).
   */
  async currentRole(ctx: TenantContext, em: EntityManager = this.em): Promise<Role> {
    if (ctx.principalType !== 'user' || !ctx.userId) return ctx.role;
    const membership = await this.findInCompany(ctx.userId, em);
    if (!membership) throw MemberErrors.MembershipEnded();
    return weakerRole(ctx.role, membership.role);
  }

  /**
   * The user's memberships in every company, oldest first. Identity-scoped: only valid after
   * `TenancyService.enterIdentity(userId)` for the same user, whose `app.user_id` setting is the only thing
   * row-level security lets this read across companies; the tenant filter is off for this one query, which
   * is scoped by the same user id.
   */
  listForUser(userId: string, em: EntityManager = this.em): Promise<Membership[]> {
    return em.find(Membership, { user: userId }, { ...identityScope(userId), orderBy: { id: 'asc' } });
  }
}
