import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { CardsService } from '../boards/cards.service.js';
import { abilityFor, holdsNow } from '../authz/abilities.js';
import { roleAtLeast, type Role } from '../authz/roles.js';
import { deniedAsNotFound, RowDenied } from '../authz/row-denial.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { UsersService } from '../users/users.service.js';
import { AccessCache } from './access.cache.js';
import type { MemberDto, OwnershipTransferDto } from './dto/member.dto.js';
import { Membership } from './membership.entity.js';
import { MembershipsService } from './memberships.service.js';
import { MemberErrors } from './members.errors.js';

const MEMBER_ROUTE = '/v1/companies/:companyId/members/:userId';

function toDto(
  m: { user: { id: string }; role: Role; createdAt: Date },
  user: { email: string; name: string },
): MemberDto {
  return {
    userId: m.user.id,
    email: user.email,
    name: user.name,
    role: m.role,
    joinedAt: m.createdAt.toISOString(),
  };
}

/**
 * Administration of a company's members: list, change role, remove, transfer ownership. The rules:
 * nobody grants a role above their own, nobody acts on a member above their own role (that row answers 404,
 * like a missing one), anyone may leave, and the last owner stays. The service checks the last-owner rule
 * for a clear message; the database enforces it (the `last_owner` constraint trigger), also against
 * concurrent changes.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly em: EntityManager,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    private readonly access: AccessCache,
    // Named lazily: the boards feature loads inside the feature-list import cycle (see CardsService).
    @Inject(forwardRef(() => CardsService)) private readonly cards: Pick<CardsService, 'unassignMember'>,
  ) {}

  async list(query: PageQueryDto): Promise<Page<MemberDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(Membership, page.where, {
      ...page.options,
      populate: ['user'],
      fields: ['id', 'role', 'createdAt', 'user.id', 'user.email', 'user.name'],
    });
    return toPage(rows, page.limit, (m) => toDto(m, m.user));
  }

  async changeRole(ctx: TenantContext, userId: string, role: Role): Promise<MemberDto> {
    const actorRole = await this.memberships.currentRole(ctx);
    // The member's access tokens act with the new role from their next request on (this instance: at once).
    const mayChange = holdsNow(ctx, actorRole, 'members:write');
    return this.forgettingAfter(ctx, [userId], () => this.changeRoleNow(userId, role, actorRole, mayChange));
  }

  private changeRoleNow(userId: string, role: Role, actorRole: Role, mayChange: boolean): Promise<MemberDto> {
    return deniedAsNotFound(this.audit, `PATCH ${MEMBER_ROUTE}`, () =>
      this.em.transactional(async (tx) => {
        const target = await this.lockMember(tx, userId);
        // The token's role passed the guard; a demotion since then counts from now on.
        if (!mayChange) {
          throw new RowDenied(
            'update',
            'Member',
            userId,
            `${actorRole} may not change roles (members:write)`,
          );
        }
        if (!roleAtLeast(actorRole, target.role)) {
          throw new RowDenied('update', 'Member', userId, `${actorRole} may not change a ${target.role}`);
        }
        if (!roleAtLeast(actorRole, role)) {
          throw MemberErrors.RoleAboveOwn(actorRole);
        }
        const user = await this.userOf(tx, userId);
        const from = target.role;
        if (from === role) return toDto(target, user);
        if (from === 'owner') await this.ensureAnotherOwner(tx, userId);
        target.role = role;
        await tx.flush();
        await this.audit.record(
          {
            action: 'member.role_changed',
            target: { type: 'Member', id: userId },
            metadata: { from, to: role },
          },
          tx,
        );
        return toDto(target, user);
      }),
    );
  }

  /** Removes a member (an admin, or the member themselves) and revokes their refresh tokens of this company. */
  async remove(ctx: TenantContext, userId: string): Promise<void> {
    const ability = abilityFor(ctx);
    const self = ctx.actingUserId === userId;
    const actorRole = await this.memberships.currentRole(ctx);
    const mayRemove = holdsNow(ctx, actorRole, 'members:write');
    await this.forgettingAfter(ctx, [userId], () =>
      this.removeNow(userId, self, actorRole, ability, mayRemove),
    );
  }

  private removeNow(
    userId: string,
    self: boolean,
    actorRole: Role,
    ability: ReturnType<typeof abilityFor>,
    mayRemove: boolean,
  ): Promise<void> {
    return deniedAsNotFound(this.audit, `DELETE ${MEMBER_ROUTE}`, () =>
      this.em.transactional(async (tx) => {
        const target = await this.lockMember(tx, userId);
        if (!ability.can('delete', subject('Member', { userId }))) {
          throw new RowDenied('delete', 'Member', userId, `${actorRole} may only remove themselves`);
        }
        if (!self && !roleAtLeast(actorRole, target.role)) {
          throw new RowDenied('delete', 'Member', userId, `${actorRole} may not remove a ${target.role}`);
        }
        if (!self && !mayRemove) {
          throw new RowDenied('delete', 'Member', userId, `${actorRole} may only remove themselves`);
        }
        if (target.role === 'owner') await this.ensureAnotherOwner(tx, userId);
        // Their cards are unassigned in this transaction (each audited as `card.updated`).
        await this.cards.unassignMember(tx, userId);
        tx.remove(target);
        await tx.flush();
        // The removed member's sessions of this company end now; an access token already issued is refused by
        // the guard from the next request on (at once on this instance, within ACCESS_CACHE_TTL_MS elsewhere).
        const revokedSessions = await this.auth.revokeUserSessions(tx, userId);
        await this.audit.record(
          {
            action: 'member.removed',
            target: { type: 'Member', id: userId },
            metadata: { role: target.role, self, revokedSessions },
          },
          tx,
        );
      }),
    );
  }

  /** The owner makes another member owner and becomes admin. */
  async transferOwnership(ctx: TenantContext, userId: string): Promise<OwnershipTransferDto> {
    const ownerId = ctx.actingUserId;
    if (!ownerId) throw MemberErrors.TransferNotSignedIn();
    if (userId === ownerId) throw MemberErrors.TransferToSelf();
    return this.forgettingAfter(ctx, [ownerId, userId], () => this.transferNow(ownerId, userId));
  }

  private transferNow(ownerId: string, userId: string): Promise<OwnershipTransferDto> {
    return this.em.transactional(async (tx) => {
      // Both rows locked in one statement, in id order: two opposite transfers cannot deadlock.
      const rows = await tx.find(
        Membership,
        { user: { $in: [ownerId, userId] } },
        { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
      );
      const current = rows.find((m) => m.user.id === ownerId);
      const next = rows.find((m) => m.user.id === userId);
      if (!current) throw MemberErrors.MembershipEnded();
      if (current.role !== 'owner') throw MemberErrors.TransferNotOwner();
      if (!next) throw Errors.notFound('Member');
      const previousRole = next.role;
      next.role = 'owner';
      current.role = 'admin';
      await tx.flush();
      await this.audit.record(
        {
          action: 'member.ownership_transferred',
          target: { type: 'Member', id: userId },
          metadata: { from: ownerId, to: userId, previousRole },
        },
        tx,
      );
      return {
        owner: toDto(next, await this.userOf(tx, userId)),
        previousOwner: toDto(current, await this.userOf(tx, ownerId)),
      };
    });
  }

  /**
   * Runs a membership change, then drops the cached roles of the users it touched (`AccessCache`), so their
   * access tokens count with what is now committed. After the transaction, never inside it: a request reading
   * in between would cache the old role again. Also after a failure (forgetting too much costs one read).
   */
  private async forgettingAfter<T>(
    ctx: TenantContext,
    userIds: string[],
    change: () => Promise<T>,
  ): Promise<T> {
    try {
      return await change();
    } finally {
      for (const userId of userIds) this.access.forgetMember(ctx.companyId, userId);
    }
  }

  /** The membership of `userId` in the context's company, locked for the transaction; 404 when none. */
  private async lockMember(tx: EntityManager, userId: string): Promise<Membership> {
    const target = await tx.findOne(Membership, { user: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!target) throw Errors.notFound('Member');
    return target;
  }

  private async userOf(tx: EntityManager, userId: string): Promise<{ email: string; name: string }> {
    const user = await this.users.findById(userId, tx);
    if (!user) throw Errors.notFound('Member');
    return user;
  }

  /** A friendly early refusal; the `last_owner` trigger is what makes it hold under concurrency. */
  private async ensureAnotherOwner(tx: EntityManager, userId: string): Promise<void> {
    const others = await tx.count(Membership, { role: 'owner', user: { $ne: userId } });
    if (others === 0) throw MemberErrors.LastOwner();
  }
}
