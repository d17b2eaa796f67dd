import { Entity, Enum, Index, Property } from '@mikro-orm/decorators/legacy';
import { ROLES, type Role } from '../authz/roles.js';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';

export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/**
 * An invitation to join the company with a role, bound to one email address. Only the SHA-256 of its token is
 * stored. Like a refresh token, the row is readable before any tenant is known by whoever presents the token
 * (its hash in `app.credential_hash`, the `invitations_by_hash_read` policy): that is how
 * `POST /v1/invitations/accept` finds the company, after which everything runs in that company's context.
 * The status is derived: accepted, else revoked, else expired, else pending.
 */
@Entity({
  tableName: 'invitations',
  policies: [
    {
      name: 'invitations_by_hash_read',
      command: 'select',
      using: `token_hash = ${settingSql(SESSION.credential, 'text')}`,
    },
  ],
})
@Index({ name: 'invitations_company_email_idx', properties: ['companyId', 'email'] })
export class Invitation extends TenantEntity {
  /** Lower-cased. */
  @Property({ length: 320 })
  email: string;

  @Enum({ items: () => ROLES, nativeEnumName: undefined })
  role: Role;

  @Property({ type: 'text', unique: 'invitations_token_hash_unique' })
  tokenHash: string;

  @Property({ type: 'timestamptz' })
  expiresAt: Date;

  /** The principal that invited (a user, or an API key / application id). */
  @Property({ type: 'uuid' })
  invitedBy: string;

  @Property({ type: 'timestamptz', nullable: true })
  acceptedAt: Date | null = null;

  /** The user who joined with it. */
  @Property({ type: 'uuid', nullable: true })
  acceptedBy: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  /** How often the invitation was re-sent (each time with a new token). */
  @Property({ type: 'integer', default: 0 })
  resendCount: number = 0;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  lastSentAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(email: string, role: Role, tokenHash: string, expiresAt: Date, invitedBy: string) {
    super();
    this.email = email;
    this.role = role;
    this.tokenHash = tokenHash;
    this.expiresAt = expiresAt;
    this.invitedBy = invitedBy;
  }

  status(now: Date = new Date()): InvitationStatus {
    if (this.acceptedAt) return 'accepted';
    if (this.revokedAt) return 'revoked';
    if (this.expiresAt.getTime() <= now.getTime()) return 'expired';
    return 'pending';
  }
}
