import { effectivePermissions } from '../authz/abilities.js';
import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Account } from '../accounts/account.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthzErrors } from '../authz/authz.errors.js';
import type { Role } from '../authz/roles.js';
import { CompaniesService } from '../companies/companies.service.js';
import type { Company } from '../companies/company.entity.js';
import { Errors } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import { MembershipsService } from '../members/memberships.service.js';
import type { Membership } from '../members/membership.entity.js';
import { userContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import type { LoginDto, MeDto, RegisterDto, SessionDto, TokenPairDto } from './dto/auth.dto.js';
import { PasswordService } from './password.service.js';
import { RefreshToken } from './refresh-token.entity.js';
import { sha256Hex } from './secrets.js';
import { REFRESH_PREFIX, TokenService } from './token.service.js';
import { AuthErrors } from './auth.errors.js';

function session(user: User, company: Company, role: Role, tokens: TokenPairDto): SessionDto {
  return {
    user: { id: user.id, email: user.email, name: user.name, platformAdmin: user.platformAdmin },
    company: { id: company.id, name: company.name, slug: company.slug },
    role,
    ...tokens,
  };
}

/** Accounts and sessions: register, login, refresh (rotating, with reuse detection), logout, switch, me. */
@Injectable()
export class AuthService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly users: UsersService,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates the user, their account (the user its owner, on the default plan), its first company and the
   * user's `owner` membership in one transaction, and signs them in.
   */
  async register(dto: RegisterDto): Promise<SessionDto> {
    if (await this.users.emailTaken(dto.email)) {
      throw AuthErrors.EmailTaken();
    }
    const passwordHash = await this.passwords.hash(dto.password);
    const userId = newId();
    const companyId = newId();
    return this.tenancy.run(userContext(companyId, userId, 'owner'), (em) =>
      em.transactional(async (tx) => {
        const user = this.users.create(tx, { id: userId, email: dto.email, name: dto.name, passwordHash });
        const account = new Account(dto.companyName, userId);
        tx.persist(account);
        await tx.flush();
        const company = await this.companies.foundWithOwner(
          tx,
          { id: companyId, name: dto.companyName, accountId: account.id },
          user,
          'registration',
        );
        const tokens = this.tokens.issuePair(tx, user, 'owner');
        return session(user, company, 'owner', tokens);
      }),
    );
  }

  /** Any failure (unknown email, wrong password, unknown or foreign company) is the same 401. */
  async login(dto: LoginDto): Promise<SessionDto> {
    const user = await this.users.findByEmail(dto.email);
    const ok = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !ok) throw AuthErrors.BadLogin();

    this.tenancy.enterIdentity(user.id);
    const memberships = await this.memberships.listForUser(user.id);
    let membership: Membership | undefined;
    if (dto.companySlug) {
      const company = await this.companies.findBySlug(dto.companySlug);
      membership = company ? memberships.find((m) => m.companyId === company.id) : undefined;
    } else {
      membership = memberships[0];
    }
    if (!membership) throw AuthErrors.BadLogin();
    return this.startSession(user, membership.companyId, membership.role, 'auth.login');
  }

  /** Tokens for another company the signed-in user belongs to; 404 otherwise. */
  async switchCompany(current: TenantContext, companyId: string): Promise<SessionDto> {
    const user = current.userId ? await this.users.findById(current.userId) : null;
    if (!user) throw Errors.unauthenticated();
    this.tenancy.enterIdentity(user.id);
    const membership = (await this.memberships.listForUser(user.id)).find((m) => m.companyId === companyId);
    if (!membership) throw Errors.notFound('Company');
    return this.startSession(user, companyId, membership.role, 'auth.company_switched');
  }

  /** Starts a refresh family in `companyId` (its own context and transaction), audited there. */
  private async startSession(
    user: User,
    companyId: string,
    role: Role,
    action: 'auth.login' | 'auth.company_switched',
  ): Promise<SessionDto> {
    return this.tenancy.run(userContext(companyId, user.id, role), (em) =>
      em.transactional(async (tx) => {
        const company = await this.companies.findById(companyId, tx);
        if (!company) throw AuthErrors.BadLogin();
        if (company.purgeAfter && role !== 'owner') {
          throw AuthzErrors.CompanyScheduledForDeletion();
        }
        const tokens = this.tokens.issuePair(tx, user, role);
        await this.audit.record({ action, target: { type: 'Session', id: null }, metadata: { role } }, tx);
        return session(user, company, role, tokens);
      }),
    );
  }

  /**
   * Rotates a refresh token. The token is found by its hash alone (it is what entitles the caller to learn its
   * company); the rotation then runs in that company's context. A spent token presented again revokes its
   * whole family. The role comes from the membership as it is now, so changes apply at the next refresh.
   */
  async refresh(raw: string): Promise<TokenPairDto> {
    if (!raw.startsWith(REFRESH_PREFIX)) throw AuthErrors.BadRefresh();
    const hash = sha256Hex(raw);
    const found = await this.tenancy.findByCredentialHash(RefreshToken, hash);
    if (!found || found.revokedAt || found.expiresAt.getTime() <= Date.now()) {
      throw AuthErrors.BadRefresh();
    }
    const userId = found.user.id;
    const familyId = found.familyId;
    const outcome = await this.tenancy.run(userContext(found.companyId, userId, 'member', familyId), (em) =>
      em.transactional(async (tx): Promise<TokenPairDto | 'reused' | 'gone'> => {
        // Claim the token: only one concurrent refresh can flip `used_at` from null.
        const claimed = await tx.nativeUpdate(
          RefreshToken,
          { id: found.id, usedAt: null, revokedAt: null },
          { usedAt: new Date() },
        );
        if (claimed === 0) {
          await this.revokeFamily(tx, familyId);
          await this.audit.record(
            {
              action: 'auth.refresh_reuse_detected',
              actor: { type: 'user', id: userId },
              target: { type: 'Session', id: familyId },
            },
            tx,
          );
          return 'reused';
        }
        const membership = await this.memberships.findInCompany(userId, tx);
        const user = await this.users.findById(userId, tx);
        if (!membership || !user) {
          await this.revokeFamily(tx, familyId);
          return 'gone';
        }
        const tokens = this.tokens.issuePair(tx, user, membership.role, familyId);
        await this.audit.record(
          {
            action: 'auth.token_refreshed',
            actor: { type: 'user', id: userId },
            target: { type: 'Session', id: familyId },
          },
          tx,
        );
        return tokens;
      }),
    );
    if (typeof outcome === 'string') throw AuthErrors.BadRefresh();
    return outcome;
  }

  /** Revokes a refresh family of the caller: the given token's, else the access token's session. */
  async logout(ctx: TenantContext, raw: string | undefined): Promise<void> {
    let familyId = ctx.sessionId;
    if (raw) {
      const token = await this.em.findOne(RefreshToken, {
        tokenHash: sha256Hex(raw),
        user: ctx.userId ?? '',
      });
      if (!token) throw Errors.notFound('Session');
      familyId = token.familyId;
    }
    if (!familyId || !ctx.userId) throw AuthErrors.NoSessionToRevoke();
    const userId = ctx.userId;
    const family = familyId;
    await this.em.transactional(async (tx) => {
      await this.revokeFamily(tx, family, userId);
      await this.audit.record({ action: 'auth.logout', target: { type: 'Session', id: family } }, tx);
    });
  }

  /** Revokes every refresh token of a user in the context's company (member removal). */
  async revokeUserSessions(em: EntityManager, userId: string): Promise<number> {
    return em.nativeUpdate(RefreshToken, { user: userId, revokedAt: null }, { revokedAt: new Date() });
  }

  private revokeFamily(em: EntityManager, familyId: string, userId?: string): Promise<number> {
    return em.nativeUpdate(
      RefreshToken,
      { familyId, revokedAt: null, ...(userId ? { user: userId } : {}) },
      { revokedAt: new Date() },
    );
  }

  /** The caller: user, active company, role, and (for users) their memberships in every company. */
  async me(ctx: TenantContext): Promise<MeDto> {
    const company = await this.companies.findById(ctx.companyId);
    if (!company) throw Errors.unauthenticated();
    const user = ctx.userId ? await this.users.findById(ctx.userId) : null;
    let memberships: MeDto['memberships'] = [];
    if (user && ctx.principalType === 'user') {
      this.tenancy.enterIdentity(user.id);
      const rows = await this.memberships.listForUser(user.id);
      const companies = new Map(
        (await this.companies.findByIds(rows.map((m) => m.companyId))).map((c) => [c.id, c]),
      );
      memberships = rows.flatMap((m) => {
        const c = companies.get(m.companyId);
        return c ? [{ companyId: c.id, companyName: c.name, companySlug: c.slug, role: m.role }] : [];
      });
    }
    return {
      user: user
        ? { id: user.id, email: user.email, name: user.name, platformAdmin: user.platformAdmin }
        : null,
      company: { id: company.id, name: company.name, slug: company.slug },
      role: ctx.role,
      principalType: ctx.principalType,
      principalId: ctx.principalId,
      ...(ctx.operatorId ? { operatorId: ctx.operatorId, operatorMode: ctx.operatorMode ?? 'read' } : {}),
      memberships,
      permissions: [...effectivePermissions(ctx)].sort(),
      groups: [...(ctx.groups ?? [])],
    };
  }
}
