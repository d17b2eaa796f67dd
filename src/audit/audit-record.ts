import type { AuditEvent } from './audit-event.entity.js';

/** The exported, hashed shape of an event: what `hash` covers and what the offline verifier recomputes. */
export interface AuditRecord {
  id: string;
  companyId: string;
  seq: number;
  occurredAt: string;
  action: string;
  actionVersion: number;
  actor: { type: string; id: string; onBehalfOf?: string };
  target: { type: string; id: string | null } | null;
  context: { requestId: string | null; ip: string | null; userAgent: string | null };
  metadata: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export function toAuditRecord(e: AuditEvent): AuditRecord {
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
