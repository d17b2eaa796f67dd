import type { EntityClass } from '@mikro-orm/core';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Application } from '../applications/application.entity.js';
import { AuditChainHead } from '../audit/audit-chain-head.entity.js';
import { AuditExportCursor } from '../audit/audit-export-cursor.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { RefreshToken } from '../auth/refresh-token.entity.js';
import { Company } from '../companies/company.entity.js';
import { IdempotencyRecord } from '../idempotency/idempotency-record.entity.js';
import { DraftVersion } from '../drafts/draft-version.entity.js';
import { Draft } from '../drafts/draft.entity.js';
import { CompanyKey } from '../crypto/company-key.entity.js';
import { Connector } from '../connectors/connector.entity.js';
import { InvitationSend } from '../invitations/invitation-send.entity.js';
import { Invitation } from '../invitations/invitation.entity.js';
import { OutboxMessage } from '../mail/outbox-message.entity.js';
import { Membership } from '../members/membership.entity.js';
import { RunBudgetUsage } from '../runs/run-budget-usage.entity.js';
import { RunEvent } from '../runs/run-event.entity.js';
import { RunStep } from '../runs/run-step.entity.js';
import { RunVerdict } from '../runs/run-verdict.entity.js';
import { Run } from '../runs/run.entity.js';
import { User } from '../users/user.entity.js';
import { FEATURES } from '../features.js';

/**
 * The core's entities, listed once; features add theirs in their manifests (`src/features.ts`). The ORM, the
 * CLI and the tests discover exactly `allEntities()` (no globbing, so tsc output, SWC-transformed tests and the
 * CLI all see the same schema).
 */
const CORE_ENTITIES = [
  User,
  Company,
  Membership,
  RefreshToken,
  AuditChainHead,
  AuditEvent,
  AuditExportCursor,
  ApiKey,
  Application,
  IdempotencyRecord,
  Draft,
  DraftVersion,
  CompanyKey,
  Connector,
  Invitation,
  InvitationSend,
  OutboxMessage,
  Run,
  RunStep,
  RunEvent,
  RunVerdict,
  RunBudgetUsage,
];

export function allEntities(): EntityClass<unknown>[] {
  return [...CORE_ENTITIES, ...FEATURES.flatMap((feature) => feature.entities ?? [])];
}
