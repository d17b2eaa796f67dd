import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, LockMode, type ObjectQuery } from '@mikro-orm/postgresql';
import { actorOf, AuditService } from '../audit/audit.service.js';
import type { SessionDto } from '../auth/dto/auth.dto.js';
import { PasswordService } from '../auth/password.service.js';
import { randomSecret, sha256Hex } from '../auth/secrets.js';
import { TokenService } from '../auth/token.service.js';
import { holdsNow } from '../authz/abilities.js';
import { roleAtLeast, type Role } from '../authz/roles.js';
import { deniedAsNotFound, RowDenied } from '../authz/row-denial.js';
import { CompaniesService } from '../companies/companies.service.js';
import type { Company } from '../companies/company.entity.js';
import { AppError, Errors, type FieldError } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MailOutboxService } from '../mail/mail-outbox.service.js';
import { AccessCache } from '../members/access.cache.js';
import { MembershipsService } from '../members/memberships.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { UsersService } from '../users/users.service.js';
import type {
  AcceptInvitationDto,
  CreateInvitationDto,
  InvitationDto,
  ListInvitationsQueryDto,
} from './dto/invitation.dto.js';
import { invitationMail } from './invitation-mail.js';
import { InvitationSend } from './invitation-send.entity.js';
import { Invitation, type InvitationStatus } from './invitation.entity.js';

export const INVITATION_PREFIX = 'inv_';
/**
 * Invitation mails (creations and re-sends alike) per company per rolling hour, counted in the database so it
 * holds across processes: revoking and inviting again costs a mail like a re-send does.
 */
export const INVITATION_MAILS_PER_HOUR = 100;
const HOUR_MS = 3_600_000;
const ITEM_ROUTE = '/v1/companies/:companyId/invitations/:id';

const invalid = (detail: string) => new AppError(404, 'NOT_FOUND', detail);
/** Unknown token, or another person's invitation: nothing about it is revealed. */
const UNKNOWN = () => Errors.notFound('Invitation');
const UNUSABLE: Record<Exclude<InvitationStatus, 'pending'>, string> = {
  accepted: 'This invitation has already been used',
  revoked: 'This invitation was revoked',
  expired: 'This invitation has expired: ask for a new one',
};

export function toInvitationDto(i: Invitation, now: Date = new Date()): InvitationDto {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    status: i.status(now),
    invitedBy: i.invitedBy,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    lastSentAt: i.lastSentAt.toISOString(),
    resendCount: i.resendCount,
    acceptedAt: i.acceptedAt?.toISOString() ?? null,
    acceptedBy: i.acceptedBy,
    revokedAt: i.revokedAt?.toISOString() ?? null,
  };
}

function statusWhere(status: InvitationStatus | undefined, now: Date): ObjectQuery<Invitation> {
  switch (status) {
    case 'pending':
      return { acceptedAt: null, revokedAt: null, expiresAt: { $gt: now } };
    case 'accepted':
      return { acceptedAt: { $ne: null } };
    case 'revoked':
      return { acceptedAt: null, revokedAt: { $ne: null } };
    case 'expired':
      return { acceptedAt: null, revokedAt: null, expiresAt: { $lte: now } };
    default:
      return {};
  }
}

/**
 * Invitations: admins invite by email with a role (not above their own); the link's token is random, stored
 * as its SHA-256 only, bound to the email, single use, and expires after INVITATION_TTL_DAYS. The mail is
 * queued in the same transaction (the outbox) and delivered after commit; no response ever carries a token.
 * Resending rotates the token (the previous link dies). Accepting finds the invitation by the token's hash,
 * then acts in that company's context.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly mail: MailOutboxService,
    private readonly audit: AuditService,
    private readonly access: AccessCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * One pending invitation per email: a second one answers 409 (resend the first instead). Counts against the
   * company's hourly invitation mail limit (429 beyond).
   */
  async create(ctx: TenantContext, dto: CreateInvitationDto): Promise<InvitationDto> {
    const actorRole = await this.memberships.currentRole(ctx);
    if (!holdsNow(ctx, actorRole, 'invitations:write')) {
      throw Errors.forbidden('This needs the permission invitations:write, which you do not hold');
    }
    if (!roleAtLeast(actorRole, dto.role)) {
      throw Errors.forbidden(`You cannot invite with a role above your own (${actorRole})`);
    }
    const inviterName = await this.inviterName(ctx);
    const invitation = await this.em.transactional(async (tx) => {
      // Serialises invitations of this company: no two pending invitations for one email, even concurrently.
      const company = await this.lockCompany(tx);
      await this.ensureNotMember(tx, dto.email);
      const pending = await tx.count(Invitation, {
        email: dto.email,
        ...statusWhere('pending', new Date()),
      });
      if (pending > 0) {
        throw Errors.conflict('A pending invitation for this email exists: resend or revoke it');
      }
      await this.checkMailLimit(tx);
      const token = randomSecret(INVITATION_PREFIX);
      const created = new Invitation(dto.email, dto.role, sha256Hex(token), this.expiry(), actorOf(ctx).id);
      tx.persist(created);
      tx.persist(new InvitationSend(created.id, 'created'));
      this.queueMail(tx, created, company, token, inviterName);
      await tx.flush();
      await this.audit.record(
        {
          action: 'member.invited',
          target: { type: 'Invitation', id: created.id },
          metadata: { email: created.email, role: created.role, expiresAt: created.expiresAt.toISOString() },
        },
        tx,
      );
      return created;
    });
    this.mail.kick();
    return toInvitationDto(invitation);
  }

  async list(query: ListInvitationsQueryDto): Promise<Page<InvitationDto>> {
    const page = keysetFind(query);
    const now = new Date();
    const rows = await this.em.find(
      Invitation,
      { ...page.where, ...statusWhere(query.status, now) },
      page.options,
    );
    return toPage(rows, page.limit, (i) => toInvitationDto(i, now));
  }

  /** Revokes a pending (or expired) invitation; revoking a revoked one changes nothing. */
  async revoke(ctx: TenantContext, id: string): Promise<void> {
    const actorRole = await this.memberships.currentRole(ctx);
    await deniedAsNotFound(this.audit, `DELETE ${ITEM_ROUTE}`, () =>
      this.em.transactional(async (tx) => {
        const invitation = await this.lockInvitation(
          tx,
          id,
          actorRole,
          'delete',
          holdsNow(ctx, actorRole, 'invitations:write'),
        );
        const status = invitation.status();
        if (status === 'accepted') {
          throw Errors.conflict('The invitation was accepted already: remove the member instead');
        }
        if (status === 'revoked') return;
        invitation.revokedAt = new Date();
        await tx.flush();
        await this.audit.record(
          {
            action: 'invitation.revoked',
            target: { type: 'Invitation', id },
            metadata: { email: invitation.email, role: invitation.role, status },
          },
          tx,
        );
      }),
    );
  }

  /**
   * Sends a pending or expired invitation again with a new token and a new expiry; the previous link stops
   * working. Refused (409) while another invitation for the same email is pending: reviving an expired one
   * then would leave two. Counts against INVITATION_MAILS_PER_HOUR (429 beyond, with Retry-After). Like
   * `create`, it runs under the company's administration lock, so the one-pending-per-email rule holds
   * between concurrent creates and re-sends too.
   */
  async resend(ctx: TenantContext, id: string): Promise<InvitationDto> {
    const actorRole = await this.memberships.currentRole(ctx);
    const inviterName = await this.inviterName(ctx);
    const invitation = await deniedAsNotFound(this.audit, `POST ${ITEM_ROUTE}/resend`, () =>
      this.em.transactional(async (tx) => {
        const company = await this.lockCompany(tx);
        const found = await this.lockInvitation(
          tx,
          id,
          actorRole,
          'update',
          holdsNow(ctx, actorRole, 'invitations:write'),
        );
        const status = found.status();
        if (status === 'accepted') throw Errors.conflict('The invitation was accepted already');
        if (status === 'revoked') throw Errors.conflict('The invitation was revoked: create a new one');
        await this.ensureNotMember(tx, found.email);
        const others = await tx.count(Invitation, {
          email: found.email,
          id: { $ne: found.id },
          ...statusWhere('pending', new Date()),
        });
        if (others > 0) {
          throw Errors.conflict(
            'Another pending invitation for this email exists: resend that one, or revoke it first',
          );
        }
        await this.checkMailLimit(tx);
        const now = new Date();
        const token = randomSecret(INVITATION_PREFIX);
        found.tokenHash = sha256Hex(token);
        found.expiresAt = this.expiry(now);
        found.resendCount += 1;
        found.lastSentAt = now;
        tx.persist(new InvitationSend(found.id, 'resent'));
        this.queueMail(tx, found, company, token, inviterName);
        await tx.flush();
        await this.audit.record(
          {
            action: 'invitation.resent',
            target: { type: 'Invitation', id },
            metadata: {
              email: found.email,
              role: found.role,
              expiresAt: found.expiresAt.toISOString(),
              resendCount: found.resendCount,
            },
          },
          tx,
        );
        return found;
      }),
    );
    this.mail.kick();
    return toInvitationDto(invitation);
  }

  /**
   * Joins the invitation's company. Signed in: the invitation must be for the user's own email (anything else
   * answers like an unknown token). Not signed in: an existing account with that email must sign in first
   * (401); otherwise `name` and `password` create the account. Either way the answer is a session in the
   * company. The token is claimed atomically, so it works once even under concurrent accepts.
   */
  async accept(dto: AcceptInvitationDto, caller: TenantContext | undefined): Promise<SessionDto> {
    if (caller && (caller.principalType !== 'user' || !caller.userId)) {
      throw Errors.forbidden('Accept invitations signed in as a user, or with no credential');
    }
    const hash = dto.token.startsWith(INVITATION_PREFIX) ? sha256Hex(dto.token) : undefined;
    const found = hash ? await this.tenancy.findByCredentialHash(Invitation, hash) : null;
    if (!found || !hash) throw UNKNOWN();

    const signedIn = caller?.userId ? await this.users.findById(caller.userId) : null;
    if (caller && !signedIn) throw Errors.unauthenticated();
    if (signedIn && signedIn.email !== found.email) throw UNKNOWN();

    const status = found.status();
    if (status !== 'pending') throw invalid(UNUSABLE[status]);

    let passwordHash: string | undefined;
    if (!signedIn) {
      if (await this.users.emailTaken(found.email)) {
        // The account may be the one a concurrent accept of this very token just created: then the token is
        // spent, and this caller gets the same answer as any other late accept (404), not "sign in".
        const current = (await this.tenancy.findByCredentialHash(Invitation, hash))?.status();
        if (current === undefined) throw UNKNOWN();
        if (current !== 'pending') throw invalid(UNUSABLE[current]);
        throw Errors.unauthenticated(
          'An account with this email exists: sign in, then accept the invitation again',
        );
      }
      const missing: FieldError[] = [];
      if (!dto.name) missing.push({ field: 'name', message: 'name is required to create your account' });
      if (!dto.password) {
        missing.push({ field: 'password', message: 'password is required to create your account' });
      }
      if (missing.length > 0) throw Errors.validation(missing.map((m) => m.message).join('; '), missing);
      passwordHash = await this.passwords.hash(dto.password!);
    }

    const userId = signedIn?.id ?? newId();
    const ctx: TenantContext = {
      companyId: found.companyId,
      principalId: userId,
      principalType: 'user',
      role: found.role,
      userId,
      actingUserId: userId,
      operatorId: undefined,
    };
    const session = await this.tenancy.run(ctx, (em) =>
      em.transactional(async (tx) => {
        const company = await this.companies.findById(found.companyId, tx);
        if (!company) throw UNKNOWN();
        if (company.purgeAfter) {
          throw Errors.conflict('The company is scheduled for deletion; its invitations cannot be accepted');
        }
        if (signedIn && (await this.memberships.findInCompany(userId, tx))) {
          throw Errors.conflict('You are a member of this company already');
        }
        const now = new Date();
        const claimed = await tx.nativeUpdate(
          Invitation,
          { id: found.id, tokenHash: hash, acceptedAt: null, revokedAt: null, expiresAt: { $gt: now } },
          { acceptedAt: now, acceptedBy: userId },
        );
        if (claimed === 0) throw invalid('This invitation is no longer valid');
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

  private expiry(from: Date = new Date()): Date {
    return new Date(from.getTime() + this.config.invitationTtlDays * 86_400_000);
  }

  private async lockCompany(tx: EntityManager): Promise<Company> {
    const company = await this.companies.lockForAdministration(tx);
    if (!company) throw Errors.notFound('Company');
    return company;
  }

  /** The invitation, locked; an admin may not touch an invitation above their own role (404, audited). */
  private async lockInvitation(
    tx: EntityManager,
    id: string,
    actorRole: Role,
    action: 'update' | 'delete',
    mayManage: boolean,
  ): Promise<Invitation> {
    const invitation = await tx.findOne(Invitation, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!invitation) throw Errors.notFound('Invitation');
    if (!mayManage || !roleAtLeast(actorRole, invitation.role)) {
      throw new RowDenied(
        action,
        'Invitation',
        id,
        `${actorRole} may not manage a ${invitation.role} invitation`,
      );
    }
    return invitation;
  }

  private async ensureNotMember(tx: EntityManager, email: string): Promise<void> {
    const user = await this.users.findByEmail(email, tx);
    if (user && (await this.memberships.findInCompany(user.id, tx))) {
      throw Errors.conflict('This email belongs to a member of the company already');
    }
  }

  /** At most INVITATION_MAILS_PER_HOUR mails in the last hour (the caller holds the company's lock). */
  private async checkMailLimit(tx: EntityManager): Promise<void> {
    const now = Date.now();
    const since = new Date(now - HOUR_MS);
    const recent = await tx.count(InvitationSend, { createdAt: { $gt: since } });
    if (recent < INVITATION_MAILS_PER_HOUR) return;
    const oldest = await tx.findOne(
      InvitationSend,
      { createdAt: { $gt: since } },
      { orderBy: { createdAt: 'asc' }, fields: ['id', 'createdAt'] },
    );
    const retryAfter = oldest ? Math.ceil((oldest.createdAt.getTime() + HOUR_MS - now) / 1000) : 3600;
    throw Errors.rateLimited(
      Math.max(1, retryAfter),
      `At most ${INVITATION_MAILS_PER_HOUR} invitation mails (new or re-sent) may be sent per company per hour; try again later`,
    );
  }

  private queueMail(
    tx: EntityManager,
    invitation: Invitation,
    company: Company,
    token: string,
    inviterName: string | undefined,
  ): void {
    this.mail.enqueue(
      tx,
      invitationMail({
        to: invitation.email,
        companyName: company.name,
        role: invitation.role,
        inviterName,
        link: `${this.config.publicAppUrl}/invitations/accept?token=${encodeURIComponent(token)}`,
        expiresAt: invitation.expiresAt,
      }),
    );
  }

  /** Named in the mail for a signed-in user; API keys, applications and operators invite as the company. */
  private async inviterName(ctx: TenantContext): Promise<string | undefined> {
    if (ctx.principalType !== 'user' || !ctx.userId) return undefined;
    return (await this.users.findById(ctx.userId))?.name;
  }
}
