import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * One `Idempotency-Key` a principal used on a creating POST, and what that request created. Written in the
 * transaction of the creation, so a key is claimed exactly when its resource exists. For most operations nothing
 * secret is kept (a retry is answered 409 naming the created resource, or rebuilt from it); where the response
 * itself must be replayed (`POST /v1/api-keys`, whose key is shown once) it is kept sealed under the company's
 * data key, for the idempotency window only.
 */
@Entity({ tableName: 'idempotency_records' })
@Unique({
  name: 'idempotency_records_company_key_unique',
  properties: ['companyId', 'principalId', 'scope', 'key'],
})
export class IdempotencyRecord extends TenantEntity {
  @Property({ length: 100 })
  principalId: string;

  /** The operation, e.g. `POST /v1/api-keys`. */
  @Property({ length: 100 })
  scope: string;

  @Property({ length: 255 })
  key: string;

  /** SHA-256 of the canonical request body: a reuse with another body is told apart in the answer. */
  @Property({ length: 64 })
  requestHash: string;

  @Property({ length: 50 })
  resourceType: string;

  @Property({ type: 'uuid' })
  resourceId: string;

  /**
   * The first response, sealed (AES-256-GCM under the company's data key, bound to this record), when the
   * operation replays it; null otherwise, and once the resource was retired (revoked, rotated). The record is
   * deleted when the window ends.
   */
  @Property({ type: 'text', nullable: true, hidden: true })
  sealedResponse: string | null = null;

  constructor(input: {
    principalId: string;
    scope: string;
    key: string;
    requestHash: string;
    resourceType: string;
    resourceId: string;
  }) {
    super();
    this.principalId = input.principalId;
    this.scope = input.scope;
    this.key = input.key;
    this.requestHash = input.requestHash;
    this.resourceType = input.resourceType;
    this.resourceId = input.resourceId;
  }
}
