import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { currentStore, currentTenant, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit-actions.js';
import { AuditChainHead } from './audit-chain-head.entity.js';
import { AuditEvent, type ActorType } from './audit-event.entity.js';
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical-json.js';
import { hashedPart, toAuditRecord } from './audit-record.js';

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
   * `em`), and returns it (not managed by `em`).
   *
   * The order matters for throughput: the caller's pending changes are flushed first, *then* this company's
   * chain head is locked (`SELECT … FOR UPDATE`; other companies never wait on it), and under the lock only
   * the event insert and the head update run, as direct inserts/updates that skip the unit of work's change
   * detection. The lock is held until the caller's transaction ends, which is what serialises one company's
   * appends: seq stays gap-free and no two events can share a `prevHash`.
   */
  async record(input: AuditInput, em: EntityManager = this.tenancy.requestEm()): Promise<AuditEvent> {
    if (!em.isInTransaction()) {
      throw new Error(
        `audit ${input.action}: events are written inside the transaction of the change they record`,
      );
    }
    const tenant = currentTenant();
    const store = currentStore();
    const actor = input.actor ?? actorOf(tenant);
    const metadata = asStored(input.metadata ?? {});
    await em.flush();

    const head = await em.findOne(
      AuditChainHead,
      { companyId: tenant.companyId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, disableIdentityMap: true },
    );
    const event = em.create(
      AuditEvent,
      {
        companyId: tenant.companyId,
        seq: (head?.seq ?? 0) + 1,
        occurredAt: new Date(),
        action: input.action,
        actionVersion: AUDIT_ACTIONS[input.action].version,
        actorType: actor.type,
        actorId: actor.id,
        actorOnBehalfOf: actor.onBehalfOf ?? null,
        targetType: input.target?.type ?? null,
        targetId: input.target?.id ?? null,
        requestId: store?.requestId ?? null,
        ip: store?.ip ?? null,
        userAgent: store?.userAgent?.slice(0, 512) ?? null,
        metadata,
        prevHash: head?.hash ?? GENESIS_HASH,
        hash: '',
      },
      { persist: false },
    );
    event.hash = chainHash(event.prevHash, canonicalJson(hashedPart(toAuditRecord(event))));
    await em.insert(event);
    if (head) {
      await em.nativeUpdate(
        AuditChainHead,
        { id: head.id },
        { seq: event.seq, hash: event.hash, updatedAt: event.occurredAt },
      );
    } else {
      // The company's first event (its registration): the head is created with it.
      const created = new AuditChainHead();
      created.seq = event.seq;
      created.hash = event.hash;
      await em.insert(created);
    }
    return event;
  }

  /** Appends one event in a transaction of its own (an event about something that changed nothing else). */
  async recordAlone(input: AuditInput): Promise<void> {
    const em = this.tenancy.requestEm();
    await em.transactional((tx) => this.record(input, tx));
  }
}
