import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { currentStore, currentTenant, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit-actions.js';
import { AuditChainHead } from './audit-chain-head.entity.js';
import { AuditEvent, type ActorType } from './audit-event.entity.js';
import { canonicalJson, chainHash } from './canonical-json.js';
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

/**
 * Appends audit events to the company's hash chain, inside the transaction of the change they record: the
 * change and its event commit together or not at all.
 */
@Injectable()
export class AuditService {
  constructor(private readonly tenancy: TenancyService) {}

  /** Appends one event in the current transaction of the request's EntityManager (or `em`). */
  async record(input: AuditInput, em: EntityManager = this.tenancy.requestEm()): Promise<AuditEvent> {
    if (!em.isInTransaction()) {
      throw new Error(
        `audit ${input.action}: events are written inside the transaction of the change they record`,
      );
    }
    const tenant = currentTenant();
    const store = currentStore();
    let head = await em.findOne(
      AuditChainHead,
      { companyId: tenant.companyId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!head) {
      head = new AuditChainHead();
      em.persist(head);
    }
    const actor = input.actor ?? actorOf(tenant);
    const event = em.create(AuditEvent, {
      companyId: tenant.companyId,
      seq: head.seq + 1,
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
      metadata: input.metadata ?? {},
      prevHash: head.hash,
      hash: '',
    });
    event.hash = chainHash(event.prevHash, canonicalJson(hashedPart(toAuditRecord(event))));
    head.seq = event.seq;
    head.hash = event.hash;
    await em.flush();
    return event;
  }

  /** Appends one event in a transaction of its own (an event about something that changed nothing else). */
  async recordAlone(input: AuditInput): Promise<void> {
    const em = this.tenancy.requestEm();
    await em.transactional((tx) => this.record(input, tx));
  }
}
