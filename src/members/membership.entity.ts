import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { ROLES, type Role } from '../authz/roles.js';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';
import { User } from '../users/user.entity.js';

/**
 * A user's role in one company. Besides the company policy, a user may read their own memberships across
 * companies (login, `GET /v1/me`, switch-company) through the `app.user_id` setting, read-only.
 */
@Entity({
  tableName: 'memberships',
  policies: [
    {
      name: 'memberships_own_user_read',
      command: 'select',
      using: `user_id = ${settingSql(SESSION.user, 'uuid')}`,
    },
  ],
})
@Unique({ name: 'memberships_company_user_unique', properties: ['companyId', 'user'] })
@Index({ name: 'memberships_company_id_id_idx', properties: ['companyId', 'id'] })
@Index({ name: 'memberships_user_idx', properties: ['user'] })
export class Membership extends TenantEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user: User;

  @Enum({ items: () => ROLES, nativeEnumName: undefined })
  role: Role;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(user: User, role: Role) {
    super();
    this.user = user;
    this.role = role;
  }
}
