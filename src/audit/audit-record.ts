import type { PrincipalType } from '../tenancy/request-store.js';
import type { AuditEvent } from './audit-event.entity.js';

/** Who can act: people, API keys, OAuth applications, switched-in platform operators, and the system (jobs). */
export const ACTOR_TYPES = [
  'user',
  'api_key',
  'application',
  'platform_admin',
  'system',
] as const satisfies readonly PrincipalType[];

/** The exported, hashed shape of an event: what `hash` covers and what the offline verifier recomputes. */
export interface AuditRecord {
  id: string;
  companyId: string;
  seq: number;
  occurredAt: string;
  action: string;
  actionVersion: number;
  actor: { type: (typeof ACTOR_TYPES)[number]; id: string; onBehalfOf?: string };
  target: { type: string; id: string | null } | null;
  context: { requestId: string | null; ip: string | null; userAgent: string | null };
  metadata: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The stored columns a record is built from: an `AuditEvent` entity or a plain row of one. */
export type AuditEventFields = Pick<
  AuditEvent,
  | 'id'
  | 'companyId'
  | 'seq'
  | 'occurredAt'
  | 'action'
  | 'actionVersion'
  | 'actorType'
  | 'actorId'
  | 'actorOnBehalfOf'
  | 'targetType'
  | 'targetId'
  | 'requestId'
  | 'ip'
  | 'userAgent'
  | 'metadata'
  | 'prevHash'
  | 'hash'
>;

export function toAuditRecord(e: AuditEventFields): AuditRecord {
  return {
    id: e.id,
    companyId: e.companyId,
    seq: e.seq,
    occurredAt: e.occurredAt.toISOString(),
    action: e.action,
    actionVersion: e.actionVersion,
    actor: {
      type: e.actorType,
      id: e.actorId,
      ...(e.actorOnBehalfOf ? { onBehalfOf: e.actorOnBehalfOf } : {}),
    },
    target: e.targetType ? { type: e.targetType, id: e.targetId } : null,
    context: { requestId: e.requestId, ip: e.ip, userAgent: e.userAgent },
    metadata: e.metadata,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/** The part of a record its hash covers: everything but the hash itself. */
export function hashedPart(record: AuditRecord): Omit<AuditRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  void _hash;
  return rest;
}
