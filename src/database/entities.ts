import { AuditChainHead } from '../audit/audit-chain-head.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { RefreshToken } from '../auth/refresh-token.entity.js';
import { Company } from '../companies/company.entity.js';
import { InvitationResend } from '../invitations/invitation-resend.entity.js';
import { Invitation } from '../invitations/invitation.entity.js';
import { OutboxMessage } from '../mail/outbox-message.entity.js';
import { Membership } from '../members/membership.entity.js';
import { User } from '../users/user.entity.js';

/**
 * Every entity, listed once. The ORM, the CLI and the tests discover exactly this list
 * (no globbing, so tsc output, SWC-transformed tests and the CLI all see the same schema).
 */
export const ENTITIES = [
  User,
  Company,
  Membership,
  RefreshToken,
  AuditChainHead,
  AuditEvent,
  Invitation,
  InvitationResend,
  OutboxMessage,
];
