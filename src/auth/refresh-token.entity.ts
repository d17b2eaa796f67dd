import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';
import { User } from '../users/user.entity.js';

/**
 * One refresh token of a rotating family. Only its SHA-256 is stored. A token row is readable without a tenant
 * context only by whoever knows the token (its hash in `app.credential_hash`): that is how `POST /v1/auth/refresh`
 * finds the company, after which everything runs in that company's context.
 */
@Entity({
  tableName: 'refresh_tokens',
  policies: [
    {
      name: 'refresh_tokens_by_hash_read',
      command: 'select',
      using: `token_hash = ${settingSql(SESSION.credential, 'text')}`,
    },
  ],
})
@Index({ name: 'refresh_tokens_company_user_idx', properties: ['companyId', 'user'] })
@Index({ name: 'refresh_tokens_company_family_idx', properties: ['companyId', 'familyId'] })
export class RefreshToken extends TenantEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user: User;

  @Property({ type: 'uuid' })
  familyId: string;

  @Property({ type: 'text', unique: 'refresh_tokens_token_hash_unique' })
  tokenHash: string;

  @Property({ type: 'timestamptz' })
  expiresAt: Date;

  /** Set when the token was exchanged for its successor; presenting it again is reuse. */
  @Property({ type: 'timestamptz', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  constructor(user: User, familyId: string, tokenHash: string, expiresAt: Date) {
    super();
    this.user = user;
    this.familyId = familyId;
    this.tokenHash = tokenHash;
    this.expiresAt = expiresAt;
  }
}
