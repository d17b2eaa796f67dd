import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { effectivePermissions } from '../authz/abilities.js';
import { AuthzErrors } from '../authz/authz.errors.js';
import { isOwnerOnly, isPermission, unionPermissions } from '../authz/permissions.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { UserGroups } from '../authz/access-ports.js';
import { AccessCache } from '../members/access.cache.js';
import { MembershipsService } from '../members/memberships.service.js';
import { systemContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import type { CreateGroupDto, GroupDto, GroupMemberDto, UpdateGroupDto } from './dto/group.dto.js';
import { GroupMember } from './group-member.entity.js';
import { Group } from './group.entity.js';
import { GroupErrors } from './groups.errors.js';

const KEY_UNIQUE = 'groups_company_key_unique';

function toGroupDto(g: Group): GroupDto {
  return {
    id: g.id,
    key: g.key,
    name: g.name,
    description: g.description,
    permissions: [...g.permissions],
    createdBy: g.createdBy,
    createdAt: g.createdAt.toISOString(),
    updatedAt: g.updatedAt.toISOString(),
  };
}

function toMemberDto(m: GroupMember): GroupMemberDto {
  return { groupId: m.groupId, userId: m.userId, addedBy: m.addedBy, addedAt: m.createdAt.toISOString() };
}

function keyTaken(e: unknown): boolean {
  return (
    e instanceof UniqueConstraintViolationException &&
    (e as UniqueConstraintViolationException & { constraint?: string }).constraint === KEY_UNIQUE
  );
}

/** Who a change is attributed to (a user id for people). */
function actorId(ctx: TenantContext): string {
  return ctx.userId ?? ctx.principalId;
}

/**
 * Groups of a company: named sets of permissions their members hold beside their role's. Nobody grants what they
 * do not hold (403), nor adds a member to a group whose permissions they do not all hold (403); owner-only
 * permissions are never grantable (400 here, and a check constraint in the database). A change applies at once on
 * this instance (`AccessCache.forgetGroups` after the commit) and within the access cache's TTL on the others.
 */
@Injectable()
export class GroupsService implements OnModuleInit {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly access: AccessCache,
    private readonly memberships: MembershipsService,
    private readonly tenancy: TenancyService,
  ) {}

  /** The guard reads a person's groups through the access cache; this is where it reads them from. */
  onModuleInit(): void {
    this.access.setGroupSource((companyId, userId) => this.groupsOf(companyId, userId));
  }

  /** A person's groups in a company (keys, union of permissions), read in that company's own context. */
  groupsOf(companyId: string, userId: string): Promise<UserGroups> {
    return this.tenancy.run(systemContext(companyId, 'access-cache'), async (em) => {
      const links = await em.find(GroupMember, { userId }, { fields: ['groupId'] });
      if (links.length === 0) return { keys: [], permissions: [] };
      const groups = await em.find(
        Group,
        { id: { $in: links.map((l) => l.groupId) } },
        { fields: ['key', 'permissions'] },
      );
      return {
        keys: groups.map((g) => g.key).sort(),
        permissions: unionPermissions(...groups.map((g) => g.permissions)),
      };
    });
  }

  async list(query: PageQueryDto): Promise<Page<GroupDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(Group, page.where, page.options);
    return toPage(rows, page.limit, toGroupDto);
  }

  async get(id: string): Promise<GroupDto> {
    const group = await this.em.findOne(Group, { id });
    if (!group) throw Errors.notFound('Group');
    return toGroupDto(group);
  }

  async create(ctx: TenantContext, dto: CreateGroupDto): Promise<GroupDto> {
    const permissions = this.grantable(ctx, dto.permissions, []);
    const dtoOut = await this.em
      .transactional(async (tx) => {
        const group = new Group({
          key: dto.key,
          name: dto.name,
          description: dto.description ?? null,
          permissions,
          createdBy: actorId(ctx),
        });
        tx.persist(group);
        await tx.flush();
        await this.audit.record(
          {
            action: 'group.created',
            target: { type: 'Group', id: group.id },
            metadata: { key: group.key, permissions },
          },
          tx,
        );
        return toGroupDto(group);
      })
      .catch((e: unknown) => {
        throw keyTaken(e) ? GroupErrors.KeyTaken(dto.key) : e;
      });
    return dtoOut;
  }

  async update(ctx: TenantContext, id: string, dto: UpdateGroupDto): Promise<GroupDto> {
    const out = await this.em
      .transactional(async (tx) => {
        const group = await this.lock(tx, id);
        const fields: string[] = [];
        let added: string[] = [];
        let removed: string[] = [];
        if (dto.key !== undefined && dto.key !== group.key) {
          group.key = dto.key;
          fields.push('key');
        }
        if (dto.name !== undefined && dto.name !== group.name) {
          group.name = dto.name;
          fields.push('name');
        }
        if (dto.description !== undefined && dto.description !== group.description) {
          group.description = dto.description;
          fields.push('description');
        }
        if (dto.permissions !== undefined) {
          const next = this.grantable(ctx, dto.permissions, group.permissions);
          added = next.filter((p) => !group.permissions.includes(p));
          removed = group.permissions.filter((p) => !next.includes(p));
          if (added.length > 0 || removed.length > 0) {
            group.permissions = next;
            fields.push('permissions');
          }
        }
        if (fields.length > 0) {
          await tx.flush();
          await this.audit.record(
            {
              action: 'group.updated',
              target: { type: 'Group', id },
              metadata: { fields, key: group.key, added, removed },
            },
            tx,
          );
        }
        return toGroupDto(group);
      })
      .catch((e: unknown) => {
        throw keyTaken(e) ? GroupErrors.KeyTaken(dto.key) : e;
      });
    this.access.forgetGroups(ctx.companyId);
    return out;
  }

  /** Deletes the group with its memberships (ON DELETE CASCADE). */
  async remove(ctx: TenantContext, id: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const group = await this.lock(tx, id);
      const members = await tx.count(GroupMember, { groupId: id });
      tx.remove(group);
      await tx.flush();
      await this.audit.record(
        {
          action: 'group.deleted',
          target: { type: 'Group', id },
          metadata: { key: group.key, permissions: group.permissions, members },
        },
        tx,
      );
    });
    this.access.forgetGroups(ctx.companyId);
  }

  async members(id: string, query: PageQueryDto): Promise<Page<GroupMemberDto>> {
    if (!(await this.em.findOne(Group, { id }, { fields: ['id'] }))) throw Errors.notFound('Group');
    const page = keysetFind(query);
    const rows = await this.em.find(GroupMember, { ...page.where, groupId: id }, page.options);
    return toPage(rows, page.limit, toMemberDto);
  }

  /** Adds a member of the company to the group (idempotent); the actor must hold every permission of the group. */
  async addMember(ctx: TenantContext, id: string, userId: string): Promise<GroupMemberDto> {
    const out = await this.em.transactional(async (tx) => {
      const group = await this.lock(tx, id);
      const held = new Set(effectivePermissions(ctx));
      const missing = group.permissions.filter((p) => !held.has(p));
      if (missing.length > 0) {
        throw GroupErrors.MemberPermissionsNotHeld(missing);
      }
      const membership = await this.memberships.findInCompany(userId, tx);
      if (!membership) throw Errors.notFound('Member');
      const existing = await tx.findOne(GroupMember, { groupId: id, userId });
      if (existing) return toMemberDto(existing);
      const member = new GroupMember(id, membership.id, userId, actorId(ctx));
      tx.persist(member);
      await tx.flush();
      await this.audit.record(
        {
          action: 'group.member_added',
          target: { type: 'Group', id },
          metadata: { key: group.key, userId },
        },
        tx,
      );
      return toMemberDto(member);
    });
    this.access.forgetMember(ctx.companyId, userId);
    return out;
  }

  async removeMember(ctx: TenantContext, id: string, userId: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const group = await this.lock(tx, id);
      const member = await tx.findOne(GroupMember, { groupId: id, userId });
      if (!member) throw Errors.notFound('Group member');
      tx.remove(member);
      await tx.flush();
      await this.audit.record(
        {
          action: 'group.member_removed',
          target: { type: 'Group', id },
          metadata: { key: group.key, userId },
        },
        tx,
      );
    });
    this.access.forgetMember(ctx.companyId, userId);
  }

  private async lock(tx: EntityManager, id: string): Promise<Group> {
    const group = await tx.findOne(Group, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!group) throw Errors.notFound('Group');
    return group;
  }

  /**
   * The requested list, sorted and de-duplicated, once every name is a permission of the catalogue (400), none is
   * owner-only (400), and the actor holds each one not already in the group (`current`) (403).
   */
  private grantable(ctx: TenantContext, requested: readonly string[], current: readonly string[]): string[] {
    const list = unionPermissions(requested);
    const unknown = list.filter((p) => !isPermission(p));
    if (unknown.length > 0) throw AuthzErrors.UnknownPermissions(unknown);
    const ownerOnly = list.filter(isOwnerOnly);
    if (ownerOnly.length > 0) {
      throw GroupErrors.OwnerOnlyPermissions(ownerOnly);
    }
    const held = new Set(effectivePermissions(ctx));
    const missing = list.filter((p) => !current.includes(p) && !held.has(p));
    if (missing.length > 0) {
      throw GroupErrors.PermissionsNotHeld(missing);
    }
    return list;
  }
}
