import { Entity, Enum, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { ROLES, type Role } from '../authz/roles.js';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/**
 * An API key of one company. Only the SHA-256 of the whole key is stored (and its last four characters, for the
 * masked form). A key row is readable before a tenant is known only by whoever presents the key itself (its hash
 * in `app.credential_hash`, the `api_keys_by_hash_read` policy): that is how a request authenticated by a key
 * finds its one company.
 */
@Entity({
  tableName: 'api_keys',
  policies: [
    {
      name: 'api_keys_by_hash_read',
      command: 'select',
      using: `key_hash = ${settingSql(SESSION.credential, 'text')}`,
    },
  ],
})
export class ApiKey extends TenantEntity {
  @Property({ length: 100 })
  name: string;

  /** The most the key may do; at use it is intersected with its creator's current role in the company. */
  @Enum({ items: () => ROLES, nativeEnumName: undefined })
  role: Role;

  /**
   * A scoped credential's permissions (null: its role alone). At use: this list ∩ its creator's current
   * effective permissions ∩ its role's (see `CredentialScopes`).
   */
  @Property({ type: 'text[]', nullable: true })
  permissions: string[] | null = null;

  @Property({ type: 'text', unique: 'api_keys_key_hash_unique', hidden: true })
  keyHash: string;

  /** The last four characters of the key, for the masked form `sk_live_…a1b2`. */
  @Property({ length: 4 })
  last4: string;

  /** The user who holds the key's authority (its creator, or whoever rotated it into this key). */
  @Property({ type: 'uuid' })
  createdBy: string;

  /** Null: the key never expires (only when asked for explicitly). */
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  @Property({ length: 500, nullable: true })
  revokedReason: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  revokedBy: string | null = null;

  /** The key this one replaced (rotation): a composite key within the company (wall three). */
  @ManyToOne(() => ApiKey, {
    mapToPk: true,
    fieldName: 'rotated_from_id',
    nullable: true,
    deleteRule: 'no action',
  })
  rotatedFromId: string | null = null;

  /** The key that replaced this one; a key is rotated once. A composite key within the company (wall three). */
  @ManyToOne(() => ApiKey, {
    mapToPk: true,
    fieldName: 'replaced_by_id',
    nullable: true,
    deleteRule: 'no action',
  })
  replacedById: string | null = null;

  constructor(input: {
    name: string;
    role: Role;
    keyHash: string;
    last4: string;
    createdBy: string;
    expiresAt: Date | null;
    rotatedFromId?: string;
  }) {
    super();
    this.name = input.name;
    this.role = input.role;
    this.keyHash = input.keyHash;
    this.last4 = input.last4;
    this.createdBy = input.createdBy;
    this.expiresAt = input.expiresAt;
    this.rotatedFromId = input.rotatedFromId ?? null;
  }

  statusAt(now: Date = new Date()): ApiKeyStatus {
    if (this.revokedAt) return 'revoked';
    if (this.expiresAt && this.expiresAt.getTime() <= now.getTime()) return 'expired';
    return 'active';
  }
}
