import { BigIntType } from '@mikro-orm/core';
import { Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { GENESIS_HASH } from './canonical-json.js';

/**
 * The head of one company's chain. Appending locks this row (`SELECT … FOR UPDATE`), which serialises the
 * appends of that company and of no other.
 */
@Entity({ tableName: 'audit_chain_heads' })
@Unique({ name: 'audit_chain_heads_company_unique', properties: ['companyId'] })
export class AuditChainHead extends TenantEntity {
  @Property({ type: new BigIntType('number'), default: 0 })
  seq: number = 0;

  @Property({ length: 64 })
  hash: string = GENESIS_HASH;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
