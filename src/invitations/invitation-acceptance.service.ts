import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { SessionDto } from '../auth/dto/auth.dto.js';
import { PasswordService } from '../auth/password.service.js';
import { sha256Hex } from '../auth/secrets.js';
import { TokenService } from '../auth/token.service.js';
import { CompaniesService } from '../companies/companies.service.js';
import { Errors, type FieldError } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AccessCache } from '../members/access.cache.js';
import { MembershipsService } from '../members/memberships.service.js';
import { userContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { UsersService } from '../users/users.service.js';
import type { AcceptInvitationDto } from './dto/invitation.dto.js';
import { INVITATION_PREFIX, InvitationErrors, unusable } from './invitations.errors.js';
import { checkMemberCap } from './member-cap.js';
import { Invitation } from './invitation.entity.js';

/**
 * Accepting an invitation (the public side of invitations, apart from the admins' workflows in
 * `InvitationsService`): finds the invitation by the token's hash, then acts in that company's context.
 */
@Injectable()
export class InvitationAcceptance {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly access: AccessCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Joins the invitation's company. Signed in: the invitation must be for the user's own email (anything else
   * answers like an unknown token). Not signed in: an existing account with that email sends its `password`
   * (else 401: sign in first); otherwise `name` and `password` create the account. Either way the answer is a session in the
   * company. The token is claimed atomically, so it works once even under concurrent accepts.
   */
  async accept(dto: AcceptInvitationDto, caller: TenantContext | undefined): Promise<SessionDto> {
    if (caller && (caller.principalType !== 'user' || !caller.userId)) {
      throw InvitationErrors.NotAPerson();
    }
    const hash = dto.token.startsWith(INVITATION_PREFIX) ? sha256Hex(dto.token) : undefined;
    const found = hash ? await this.tenancy.findByCredentialHash(Invitation, hash) : null;
    if (!found || !hash) throw InvitationErrors.Unknown();

    let signedIn = caller?.userId ? await this.users.findById(caller.userId) : null;
    if (caller && !signedIn) throw Errors.unauthenticated();
    if (signedIn && signedIn.email !== found.email) throw InvitationErrors.Unknown();

    const status = found.status();
    if (status !== 'pending') throw unusable(status);

    let passwordHash: string | undefined;
    const existing = signedIn ? null : await this.users.findByEmail(found.email);
    if (existing) {
      // The account may be the one a concurrent accept of this very token just created: then the token is
      // spent, and this caller gets the same answer as any other late accept (404), not "sign in".
      const current = (await this.tenancy.findByCredentialHash(Invitation, hash))?.status();
      if (current === undefined) throw InvitationErrors.Unknown();
      if (current !== 'pending') throw unusable(current);
      // An existing account may prove itself with its password here instead of a session: someone removed from
      // their only company has no company to sign in to, and would otherwise be locked out for good.
      if (!dto.password || !(await this.passwords.verify(existing.passwordHash, dto.password))) {
        throw InvitationErrors.SignInFirst();
      }
      signedIn = existing;
    }
    if (!signedIn) {
      const missing: FieldError[] = [];
      if (!dto.name) missing.push({ field: 'name', message: 'name is required to create your account' });
      if (!dto.password) {
        missing.push({ field: 'password', message: 'password is required to create your account' });
      }
      if (missing.length > 0) throw InvitationErrors.AccountDetailsMissing(missing);
      passwordHash = await this.passwords.hash(dto.password!);
    }

    const userId = signedIn?.id ?? newId();
    const ctx = userContext(found.companyId, userId, found.role);
    const session = await this.tenancy.run(ctx, (em) =>
      em.transactional(async (tx) => {
        // The administration lock first (as every administration writer takes it before any row): it makes the
        // plan's member cap exact under concurrent accepts.
        const company = await this.companies.lockForAdministration(tx);
        if (!company) throw InvitationErrors.Unknown();
        if (company.purgeAfter) {
          throw InvitationErrors.CompanyBeingDeleted();
        }
        if (signedIn && (await this.memberships.findInCompany(userId, tx))) {
          throw InvitationErrors.CallerIsMember();
        }
        await checkMemberCap(tx, company, this.config.plans);
        const now = new Date();
        const claimed = await tx.nativeUpdate(
          Invitation,
          { id: found.id, tokenHash: hash, acceptedAt: null, revokedAt: null, expiresAt: { $gt: now } },
          { acceptedAt: now, acceptedBy: userId },
        );
        if (claimed === 0) throw InvitationErrors.NoLongerValid();
        const user = signedIn
          ? await this.users.findById(userId, tx)
          : this.users.create(tx, {
              id: userId,
              email: found.email,
              name: dto.name!,
              passwordHash: passwordHash!,
            });
        if (!user) throw Errors.unauthenticated();
        await tx.flush();
        this.memberships.add(tx, user, found.role);
        const tokens = this.tokens.issuePair(tx, user, found.role);
        await this.audit.record(
          {
            action: 'invitation.accepted',
            target: { type: 'Invitation', id: found.id },
            metadata: { email: found.email, role: found.role, newAccount: !signedIn },
          },
          tx,
        );
        await this.audit.record(
          {
            action: 'member.joined',
            target: { type: 'Member', id: userId },
            metadata: { role: found.role, via: 'invitation', invitationId: found.id },
          },
          tx,
        );
        return {
          user: { id: user.id, email: user.email, name: user.name, platformAdmin: user.platformAdmin },
          company: { id: company.id, name: company.name, slug: company.slug },
          role: found.role,
          ...tokens,
        };
      }),
    );
    // A token of this user for this company that was refused as a non-member must now count the membership.
    this.access.forgetMember(found.companyId, userId);
    return session;
  }
}
