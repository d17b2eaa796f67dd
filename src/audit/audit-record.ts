import { randomBytes } from 'node:crypto';
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

/**
 * The canonical JSON of an event whose `seq` and `prevHash` are not known yet (the chain head decides them, under
 * its lock), split around them: for every `prevHash` P and `seq` S,
 * `canonicalJson(hashedPart(record with P, S)) === before + P + SEQ_JOINT + S + after`.
 * So the database can finish the hash in the statement that locks the head (`AuditService.record`), and the hash
 * is still SHA-256 over exactly the canonical JSON every verifier recomputes.
 */
export interface HashTemplate {
  before: string;
  after: string;
}

/** What stands between `prevHash`'s value and `seq`'s in canonical JSON (the two keys are adjacent when sorted). */
export const SEQ_JOINT = '","seq":';

const SENTINEL = `prev-${randomBytes(16).toString('hex')}`;

export function hashTemplate(
  record: Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'>,
  serialise: (value: unknown) => string,
): HashTemplate {
  const text = serialise({ ...record, prevHash: SENTINEL, seq: 0 });
  const joint = `"prevHash":"${SENTINEL}${SEQ_JOINT}0,`;
  const at = text.indexOf(joint);
  if (at < 0 || text.indexOf(joint, at + 1) >= 0) {
    throw new Error('hashTemplate: prevHash and seq are not adjacent members of the canonical event');
  }
  return {
    before: text.slice(0, at + '"prevHash":"'.length),
    after: text.slice(at + joint.length - 1),
  };
}
