import { BigIntType } from '@mikro-orm/core';
import { Entity, Index, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import type { PrincipalType } from '../tenancy/request-store.js';

export type ActorType = PrincipalType;

/**
 * One event of a company's hash chain. Append-only for the application: the role has no UPDATE or DELETE
 * grant on the table (see the migration), and a trigger refuses both for everyone, except the cascade of a
 * company purge (the company row is already gone when its events are deleted).
 */
@Entity({
  tableName: 'audit_events',
  triggers: [
    {
      name: 'append_only',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      body: `if tg_op = 'DELETE' and not exists (select 1 from companies c where c.id = old.company_id) then return old; end if; raise exception 'audit events are append-only' using errcode = 'TY409';`,
    },
  ],
})
@Unique({ name: 'audit_events_company_seq_unique', properties: ['companyId', 'seq'] })
@Index({ name: 'audit_events_company_action_idx', properties: ['companyId', 'action', 'id'] })
@Index({ name: 'audit_events_company_actor_idx', properties: ['companyId', 'actorId', 'id'] })
@Index({ name: 'audit_events_company_target_idx', properties: ['companyId', 'targetType', 'targetId', 'id'] })
@Index({ name: 'audit_events_company_occurred_idx', properties: ['companyId', 'occurredAt'] })
export class AuditEvent extends TenantEntity {
  @Property({ type: new BigIntType('number') })
  seq: number;

  @Property({ type: 'timestamptz' })
  occurredAt: Date;

  @Property({ length: 100 })
  action: string;

  @Property({ type: 'smallint' })
  actionVersion: number;

  @Property({ length: 20 })
  actorType: ActorType;

  @Property({ length: 100 })
  actorId: string;

  /** For API keys: the user on whose behalf the key acts (its creator). */
  @Property({ type: 'uuid', nullable: true })
  actorOnBehalfOf: string | null = null;

  @Property({ length: 50, nullable: true })
  targetType: string | null = null;

  @Property({ length: 100, nullable: true })
  targetId: string | null = null;

  @Property({ length: 128, nullable: true })
  requestId: string | null = null;

  @Property({ length: 64, nullable: true })
  ip: string | null = null;

  @Property({ length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'jsonb' })
  metadata: Record<string, unknown> = {};

  @Property({ length: 64 })
  prevHash: string;

  @Property({ length: 64 })
  hash: string;
}
