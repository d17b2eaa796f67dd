import type { Opt } from '@mikro-orm/core';
import { Check, Entity, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * The owner-only permissions, spelled out here because this is schema (frozen into the migration): a group can
 * never hold them, and the database refuses a row that does, whoever writes it.
 */
export const GROUP_FORBIDDEN_PERMISSIONS = [
  'ownership:transfer',
  'company:delete',
  'applications:write',
] as const;

/**
 * A group of a company: a named set of permissions its members hold beside their role's. `key` is unique in the
 * company (`finance-approvers`), so approval steps name it portably.
 */
@Entity({ tableName: 'groups' })
@Unique({ name: 'groups_company_key_unique', properties: ['companyId', 'key'] })
@Check({
  name: 'groups_no_owner_only_permissions',
  expression: `not (permissions && array[${GROUP_FORBIDDEN_PERMISSIONS.map((p) => `'${p}'`).join(', ')}]::text[])`,
})
export class Group extends TenantEntity {
  @Property({ length: 64 })
  key: string;

  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text', nullable: true })
  description: string | null;

  @Property({ type: 'text[]' })
  permissions: string[];

  /** The principal that created the group (a user id for people). */
  @Property({ length: 100 })
  createdBy: string;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(input: {
    key: string;
    name: string;
    description: string | null;
    permissions: string[];
    createdBy: string;
  }) {
    super();
    this.key = input.key;
    this.name = input.name;
    this.description = input.description;
    this.permissions = input.permissions;
    this.createdBy = input.createdBy;
  }
}
