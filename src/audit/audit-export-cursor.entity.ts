import { BigIntType } from '@mikro-orm/core';
import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * The watermark of the scheduled (incremental) audit export of one company to one target: every event up to
 * `exportedSeq` has been written there, and the `audit.exported` event recording that export is `eventSeq`.
 * Keyed by the target's description (never a secret), so pointing AUDIT_EXPORT_URL somewhere new exports the
 * whole chain there. Tenant data like the trail itself: purged with the company.
 */
@Entity({ tableName: 'audit_export_cursors' })
@Unique({ name: 'audit_export_cursors_company_target_unique', properties: ['companyId', 'target'] })
export class AuditExportCursor extends TenantEntity {
  @Property({ length: 500 })
  target: string;

  @Property({ type: new BigIntType('number') })
  exportedSeq: number;

  @Property({ type: new BigIntType('number') })
  eventSeq: number;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(target: string, exportedSeq: number, eventSeq: number) {
    super();
    this.target = target;
    this.exportedSeq = exportedSeq;
    this.eventSeq = eventSeq;
  }
}
