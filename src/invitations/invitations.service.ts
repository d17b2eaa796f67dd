import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, LockMode, type ObjectQuery } from '@mikro-orm/postgresql';
import { actorOf, AuditService } from '../audit/audit.service.js';
import { randomSecret, sha256Hex } from '../auth/secrets.js';
import { holdsNow } from '../authz/abilities.js';
import { roleAtLeast, type Role } from '../authz/roles.js';
import { deniedAsNotFound, RowDenied } from '../authz/row-denial.js';
import { CompaniesService } from '../companies/companies.service.js';
import type { Company } from '../companies/company.entity.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MailOutboxService } from '../mail/mail-outbox.service.js';
import { MembershipsService } from '../members/memberships.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { UsersService } from '../users/users.service.js';
import type { CreateInvitationDto, InvitationDto, ListInvitationsQueryDto } from './dto/invitation.dto.js';
import { INVITATION_PREFIX, InvitationErrors } from './invitations.errors.js';
import { invitationMail } from './invitation-mail.js';
import { checkMemberCap } from './member-cap.js';
import { InvitationSend } from './invitation-send.entity.js';
import { Invitation, type InvitationStatus } from './invitation.entity.js';

/**
 * Invitation mails (creations and re-sends alike) per company per rolling hour, counted in the database so it
 * holds across processes: revoking and inviting again costs a mail like a re-send does.
 */
export const INVITATION_MAILS_PER_HOUR = 100;
const HOUR_MS = 3_600_000;
const ITEM_ROUTE = '/v1/companies/:companyId/invitations/:id';

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
 * Resending rotates the token (the previous link dies). Accepting is `InvitationAcceptance`.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly em: EntityManager,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
    private readonly mail: MailOutboxService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * One pending invitation per email: a second one answers 409 (resend the first instead). Counts against the
   * company's hourly invitation mail limit (429 beyond).
   */
  async create(ctx: TenantContext, dto: CreateInvitationDto): Promise<InvitationDto> {
    const actorRole = await this.memberships.currentRole(ctx);
    if (!holdsNow(ctx, actorRole, 'invitations:write')) {
      throw InvitationErrors.NoInvitePermission();
    }
    if (!roleAtLeast(actorRole, dto.role)) {
      throw InvitationErrors.RoleAboveOwn(actorRole);
    }
    const inviterName = await this.inviterName(ctx);
    const invitation = await this.em.transactional(async (tx) => {
      // Serialises invitations of this company: no two pending invitations for one email, even concurrently.
      const company = await this.lockCompany(tx);
      await this.ensureNotMember(tx, dto.email);
      // A company at its plan's member cap cannot invite (accepting would be refused the same way).
      await checkMemberCap(tx, company, this.config.plans);
      const pending = await tx.count(Invitation, {
        email: dto.email,
        ...statusWhere('pending', new Date()),
      });
      if (pending > 0) {
        throw InvitationErrors.PendingExists();
      }
      await this.checkMailLimit(tx);
      const token = randomSecret(INVITATION_PREFIX);
      const created = new Invitation(dto.email, dto.role, sha256Hex(token), this.expiry(), actorOf(ctx).id);
      tx.persist(created);
      tx.persist(new InvitationSend(created.id, 'created'));
      await this.queueMail(tx, created, company, token, inviterName);
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
          throw InvitationErrors.AlreadyAccepted(
            'The invitation was accepted already: remove the member instead',
          );
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
        if (status === 'accepted') throw InvitationErrors.AlreadyAccepted();
        if (status === 'revoked') throw InvitationErrors.AlreadyRevoked();
        await this.ensureNotMember(tx, found.email);
        const others = await tx.count(Invitation, {
          email: found.email,
          id: { $ne: found.id },
          ...statusWhere('pending', new Date()),
        });
        if (others > 0) {
          throw InvitationErrors.OtherPendingExists();
        }
        await this.checkMailLimit(tx);
        const now = new Date();
        const token = randomSecret(INVITATION_PREFIX);
        found.tokenHash = sha256Hex(token);
        found.expiresAt = this.expiry(now);
        found.resendCount += 1;
        found.lastSentAt = now;
        tx.persist(new InvitationSend(found.id, 'resent'));
        await this.queueMail(tx, found, company, token, inviterName);
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
    return toInvitationDto(invitation);
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
      throw InvitationErrors.EmailIsMember();
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
    throw InvitationErrors.MailLimitReached(INVITATION_MAILS_PER_HOUR, Math.max(1, retryAfter));
  }

  private queueMail(
    tx: EntityManager,
    invitation: Invitation,
    company: Company,
    token: string,
    inviterName: string | undefined,
  ): Promise<unknown> {
    return this.mail.enqueue(
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
