import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { ROLES, type Role } from '../authz/roles.js';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * An application (service principal) of one company: it exchanges its client id and secret for short-lived
 * access tokens of that company (`POST /v1/oauth/token`). The client id is public; the row is readable before a
 * tenant is known only through the SHA-256 of the client id presented to the token endpoint (the
 * `applications_by_hash_read` policy), and the secret, stored as its SHA-256 only, is then compared in constant
 * time.
 */
@Entity({
  tableName: 'applications',
  policies: [
    {
      name: 'applications_by_hash_read',
      command: 'select',
      using: `client_id_hash = ${settingSql(SESSION.credential, 'text')}`,
    },
  ],
})
export class Application extends TenantEntity {
  @Property({ length: 100 })
  name: string;

  @Property({ length: 1000, nullable: true })
  description: string | null;

  /** The role of the application's access tokens in the company. */
  @Enum({ items: () => ROLES, nativeEnumName: undefined })
  role: Role;

  /**
   * A scoped credential's permissions (null: its role alone). At use: this list ∩ its creator's current
   * effective permissions ∩ its role's (see `CredentialScopes`).
   */
  @Property({ type: 'text[]', nullable: true })
  permissions: string[] | null = null;

  /** Public identifier (`app_…`). */
  @Property({ length: 64 })
  clientId: string;

  /** SHA-256 of `clientId`: the key of the pre-tenant lookup (and its row-level-security policy). */
  @Property({ type: 'text', unique: 'applications_client_id_hash_unique', hidden: true })
  clientIdHash: string;

  @Property({ type: 'text', hidden: true })
  clientSecretHash: string;

  @Property({ type: 'timestamptz' })
  secretRotatedAt: Date = new Date();

  @Property({ type: 'uuid' })
  createdBy: string;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(input: {
    name: string;
    description: string | null;
    role: Role;
    clientId: string;
    clientIdHash: string;
    clientSecretHash: string;
    createdBy: string;
  }) {
    super();
    this.name = input.name;
    this.description = input.description;
    this.role = input.role;
    this.clientId = input.clientId;
    this.clientIdHash = input.clientIdHash;
    this.clientSecretHash = input.clientSecretHash;
    this.createdBy = input.createdBy;
  }
}
