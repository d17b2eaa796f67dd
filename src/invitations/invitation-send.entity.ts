import { Entity, Enum, Index, ManyToOne } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Invitation } from './invitation.entity.js';

export const INVITATION_SEND_KINDS = ['created', 'resent'] as const;
export type InvitationSendKind = (typeof INVITATION_SEND_KINDS)[number];

/**
 * One invitation mail sent (queued): on creation and on every re-send. The per-company hourly limit counts these
 * rows, so it holds across processes and restarts (no in-memory counter), and revoking and re-creating an
 * invitation counts like a re-send.
 */
@Entity({ tableName: 'invitation_sends' })
@Index({ name: 'invitation_sends_company_created_idx', properties: ['companyId', 'createdAt'] })
export class InvitationSend extends TenantEntity {
  /** A composite key `(company_id, invitation_id) → invitations (company_id, id)` (wall three). */
  @ManyToOne(() => Invitation, { mapToPk: true, fieldName: 'invitation_id', deleteRule: 'cascade' })
  invitationId: string;

  @Enum({ items: () => INVITATION_SEND_KINDS, nativeEnumName: undefined })
  kind: InvitationSendKind;

  constructor(invitationId: string, kind: InvitationSendKind) {
    super();
    this.invitationId = invitationId;
    this.kind = kind;
  }
}
