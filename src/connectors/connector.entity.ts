import { Check, Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * A company's binding of a `toolId` to an endpoint, an auth scheme and an optional secret. The secret is stored
 * only as AES-256-GCM ciphertext under the company's data key (see `KeyringService`), bound to this row's
 * company and id; it is write-only for every caller and never leaves the process except in the outbound call.
 */
@Entity({ tableName: 'connectors' })
@Unique({ name: 'connectors_company_tool_unique', properties: ['companyId', 'toolId'] })
@Check({
  name: 'connectors_secret_sealed_check',
  expression: `starts_with(secret_ciphertext, 'v1:')`,
})
export class Connector extends TenantEntity {
  @Property({ length: 100 })
  toolId: string;

  @Property({ length: 2048 })
  endpointUrl: string;

  /** `none`, `bearer`, `basic` or `header:<lower-case name>`. */
  @Property({ length: 120 })
  authScheme: string;

  /** `v1:<iv>:<tag>:<ciphertext>`; hidden from any serialisation. */
  @Property({ type: 'text', nullable: true, hidden: true })
  secretCiphertext: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  secretSetAt: Date | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(toolId: string, endpointUrl: string, authScheme: string) {
    super();
    this.toolId = toolId;
    this.endpointUrl = endpointUrl;
    this.authScheme = authScheme;
  }
}
