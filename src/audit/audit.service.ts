import { Injectable } from '@nestjs/common';
import { EntityManager, type Transaction } from '@mikro-orm/postgresql';
import { newId } from '../common/ids.js';
import { currentStore, currentTenant, type TenantContext } from '../tenancy/request-store.js';
import { AUDIT_APPEND, AUDIT_APPEND_FIRST } from '../database/statements/audit-append.js';
import { scoped } from '../tenancy/scoped.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { auditCatalogue, type AuditAction } from './audit-actions.js';
import type { ActorType } from './audit-event.entity.js';
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical-json.js';
import { hashedPart, hashTemplate, toAuditRecord, type AuditEventFields } from './audit-record.js';

export interface AuditActor {
  type: ActorType;
  id: string;
  onBehalfOf?: string;
}

export interface AuditInput {
  action: AuditAction;
  target?: { type: string; id: string | null };
  metadata?: Record<string, unknown>;
  /** Defaults to the principal of the tenant context. */
  actor?: AuditActor;
}

/** The actor the tenant context stands for: the operator on a switch-in, the key's creator behind an API key. */
export function actorOf(ctx: TenantContext): AuditActor {
  switch (ctx.principalType) {
    case 'platform_admin':
      return { type: 'platform_admin', id: ctx.operatorId ?? ctx.principalId };
    case 'api_key':
      return { type: 'api_key', id: ctx.principalId, ...(ctx.userId ? { onBehalfOf: ctx.userId } : {}) };
    default:
      return { type: ctx.principalType, id: ctx.principalId };
  }
}

/** A string jsonb accepts: no lone surrogates, no NUL (both would fail the insert, and the change with it). */
const storable = (text: string): string => text.toWellFormed().replaceAll('\u0000', '\uFFFD');

/**
 * Metadata as the database will give it back (jsonb): dates as ISO strings, `undefined` members dropped, -0 as 0,
 * strings jsonb can hold. The hash is computed over exactly what is stored, so a verifier reading the row (or an
 * export of it) recomputes the same bytes.
 */
export function asStored(metadata: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(metadata), function (this: Record<string, unknown>, key, value: unknown) {
    if (key !== storable(key)) {
      this[storable(key)] = typeof value === 'string' ? storable(value) : value;
      return undefined;
    }
    return typeof value === 'string' ? storable(value) : value;
  }) as Record<string, unknown>;
}

/**
 * Appends audit events to the company's hash chain, inside the transaction of the change they record: the
 * change and its event commit together or not at all.
 */
@Injectable()
export class AuditService {
  constructor(private readonly tenancy: TenancyService) {}

  /**
   * Appends one event to the company's chain, in the current transaction of the request's EntityManager (or
   * `em`), and returns it.
   *
   * The order matters for throughput: the caller's pending changes are flushed first, *then* one statement locks
   * this company's chain head (`SELECT … FOR UPDATE`; other companies never wait on it), inserts the event after
   * it and moves the head. The event's hash needs the head's `seq` and `hash`, so Node sends the event's canonical
   * JSON split around them (`hashTemplate`) and PostgreSQL finishes the SHA-256 under the lock. The lock is held
   * until the caller's transaction ends, which is what serialises one company's appends: seq stays gap-free and
   * no two events can share a `prevHash`.
   *
   * One hand-written statement rather than the unit of work (four round trips, each built by the query builder):
   * this runs inside every write of every module, and on this machine each round trip costs more than all the
   * hashing (docs/benchmarks.md). It is scoped twice like everything else: by `company_id` = the context's
   * company, and by row-level security (the transaction carries the setting).
   */
  async record(input: AuditInput, em: EntityManager = this.tenancy.requestEm()): Promise<AuditEventFields> {
    const trx = em.getTransactionContext<Transaction<object>>();
    if (!em.isInTransaction() || !trx) {
      throw new Error(
        `audit ${input.action}: events are written inside the transaction of the change they record`,
      );
    }
    const tenant = currentTenant();
    const store = currentStore();
    const actor = input.actor ?? actorOf(tenant);
    const metadata = asStored(input.metadata ?? {});
    await em.flush();

    const event: AuditEventFields = {
      id: newId(),
      companyId: tenant.companyId,
      seq: 0,
      occurredAt: new Date(),
      action: input.action,
      actionVersion: auditCatalogue()[input.action].version,
      actorType: actor.type,
      actorId: actor.id,
      actorOnBehalfOf: actor.onBehalfOf ?? null,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      requestId: store?.requestId ?? null,
      ip: store?.ip ?? null,
      userAgent: store?.userAgent?.slice(0, 512) ?? null,
      metadata,
      prevHash: GENESIS_HASH,
      hash: '',
    };
    const columns = [
      event.id,
      event.companyId,
      event.occurredAt,
      event.action,
      event.actionVersion,
      event.actorType,
      event.actorId,
      event.actorOnBehalfOf,
      event.targetType,
      event.targetId,
      event.requestId,
      event.ip,
      event.userAgent,
      JSON.stringify(metadata),
    ];
    const { seq: _seq, prevHash: _prev, hash: _hash, ...unchained } = toAuditRecord(event);
    const template = hashTemplate(unchained, canonicalJson);
    const [appended] = await scoped<{ seq: string | number; prev_hash: string; hash: string }>(
      em,
      AUDIT_APPEND,
      [event.companyId, ...columns, template.before, template.after, event.occurredAt, event.companyId],
    );
    if (appended) {
      return { ...event, seq: Number(appended.seq), prevHash: appended.prev_hash, hash: appended.hash };
    }
    event.seq = 1;
    event.hash = chainHash(GENESIS_HASH, canonicalJson(hashedPart(toAuditRecord(event))));
    const [id, companyId, ...rest] = columns;
    await scoped(em, AUDIT_APPEND_FIRST, [
      id,
      companyId,
      event.seq,
      ...rest,
      event.prevHash,
      event.hash,
      newId(),
      companyId,
      event.seq,
      event.hash,
    ]);
    return event;
  }

  /** Appends one event in a transaction of its own (an event about something that changed nothing else). */
  async recordAlone(input: AuditInput): Promise<void> {
    const em = this.tenancy.requestEm();
    await em.transactional((tx) => this.record(input, tx));
  }
}
