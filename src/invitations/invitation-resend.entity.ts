import { Entity, Index, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * One re-send of an invitation. The per-company resend limit counts these rows in the last hour, so the limit
 * holds across processes and restarts (no in-memory counter).
 */
@Entity({ tableName: 'invitation_resends' })
@Index({ name: 'invitation_resends_company_created_idx', properties: ['companyId', 'createdAt'] })
export class InvitationResend extends TenantEntity {
  @Property({ type: 'uuid' })
  invitationId: string;

  constructor(invitationId: string) {
    super();
    this.invitationId = invitationId;
  }
}
