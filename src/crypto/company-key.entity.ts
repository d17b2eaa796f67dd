import { Check, Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * A company's data key (AES-256), stored only wrapped by the master key (`TENANTRY_MASTER_KEY`), bound to the
 * company id. One per company, created on its first secret. The application may read and insert these rows but
 * neither update nor delete them (see the migration): only `master-key rotate` re-wraps them, and a company purge
 * destroys the key by cascade, so no ciphertext of the company's secrets can be decrypted afterwards.
 */
@Entity({ tableName: 'company_keys' })
@Unique({ name: 'company_keys_company_unique', properties: ['companyId'] })
@Check({ name: 'company_keys_wrapped_key_check', expression: `starts_with(wrapped_key, 'v1:')` })
export class CompanyKey extends TenantEntity {
  /** `v1:<iv>:<tag>:<ciphertext>` of the data key under the master key. */
  @Property({ type: 'text', hidden: true })
  wrappedKey: string;

  /** Which master key wraps it (`masterKeyId()`), so a rotation knows what is done. */
  @Property({ length: 32 })
  masterKeyId: string;

  @Property({ type: 'timestamptz', nullable: true })
  rotatedAt: Date | null = null;

  constructor(wrappedKey: string, masterKeyId: string) {
    super();
    this.wrappedKey = wrappedKey;
    this.masterKeyId = masterKeyId;
  }
}
