import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Index, Property } from '@mikro-orm/decorators/legacy';
import { OPERATOR_MODES, type OperatorMode } from '../tenancy/request-store.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/** What is stored; `expired` is derived (a pending or approved request past `expiresAt`). */
export const STORED_STATUSES = ['pending', 'approved', 'denied', 'redeemed'] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];
export type AccessRequestStatus = StoredStatus | 'expired';

/**
 * A platform operator's request to switch into this company, under the `approval` policy. It lives in the
 * company it asks to enter (its admins list and decide it), so it is tenant data like any other: the platform
 * side writes it inside that company's context (`TenancyService.run`), never across companies.
 *
 * Lifecycle: `pending` (until `expiresAt`) → `approved` (the switch-in token can be obtained once, until the new
 * `expiresAt`, ≤ 60 min after the approval) → `redeemed`; or `denied`. Past `expiresAt`, a pending or approved
 * request reads as `expired` and yields nothing.
 */
@Entity({ tableName: 'operator_access_requests' })
@Index({ name: 'operator_access_requests_status_idx', properties: ['companyId', 'status', 'id'] })
export class OperatorAccessRequest extends TenantEntity {
  /** The operator (a user with the `platform:admin` flag; not necessarily a member). */
  @Property({ type: 'uuid' })
  operatorId: string;

  /** The operator's email when they asked, so the approver sees who asks without reading the user registry. */
  @Property({ length: 320 })
  operatorEmail: string;

  @Property({ type: 'text' })
  reason: string;

  @Enum({ items: () => OPERATOR_MODES, nativeEnumName: undefined })
  mode: OperatorMode;

  @Enum({ items: () => STORED_STATUSES, nativeEnumName: undefined })
  status: Opt<StoredStatus> = 'pending';

  /** Pending: until when it may be decided. Approved: until when its token may be obtained (and expires). */
  @Property({ type: 'timestamptz' })
  expiresAt: Date;

  /** The admin who approved or denied it. */
  @Property({ type: 'uuid', nullable: true })
  decidedBy: Opt<string> | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  decidedAt: Opt<Date> | null = null;

  /** When the operator obtained the switch-in token (once). */
  @Property({ type: 'timestamptz', nullable: true })
  redeemedAt: Opt<Date> | null = null;

  constructor(
    operatorId: string,
    operatorEmail: string,
    reason: string,
    mode: OperatorMode,
    expiresAt: Date,
  ) {
    super();
    this.operatorId = operatorId;
    this.operatorEmail = operatorEmail;
    this.reason = reason;
    this.mode = mode;
    this.expiresAt = expiresAt;
  }

  /** The status as of `now`: a pending or approved request past its window is `expired`. */
  statusAt(now: Date): AccessRequestStatus {
    if ((this.status === 'pending' || this.status === 'approved') && this.expiresAt <= now) return 'expired';
    return this.status;
  }
}
