import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../authz/roles.js';
import { TENANT_FILTER } from '../tenancy/tenant.entity.js';
import { requestStorage } from '../tenancy/request-store.js';
import type { User } from '../users/user.entity.js';
import { Membership } from './membership.entity.js';

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
   * The user's memberships in every company, oldest first. Identity-scoped: only valid after
   * `TenancyService.enterIdentity(userId)` for the same user, whose `app.user_id` setting is the only thing
   * row-level security lets this read across companies; the tenant filter is off for this one query, which
   * is scoped by the same user id.
   */
  listForUser(userId: string, em: EntityManager = this.em): Promise<Membership[]> {
    if (requestStorage.getStore()?.identityUserId !== userId) {
      throw new Error('listForUser needs the identity scope of the same user');
    }
    return em.find(
      Membership,
      { user: userId },
      { filters: { [TENANT_FILTER]: false }, orderBy: { id: 'asc' } },
    );
  }
}
