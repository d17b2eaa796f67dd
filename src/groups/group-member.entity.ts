import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Membership } from '../members/membership.entity.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Group } from './group.entity.js';

/**
 * A member of a group. It references the company membership (composite key, ON DELETE CASCADE): removing a member
 * from the company removes their group memberships in the same statement.
 */
@Entity({ tableName: 'group_members' })
@Unique({
  name: 'group_members_company_group_membership_unique',
  properties: ['companyId', 'groupId', 'membershipId'],
})
@Index({ name: 'group_members_company_user_idx', properties: ['companyId', 'userId'] })
@Index({ name: 'group_members_company_membership_idx', properties: ['companyId', 'membershipId'] })
export class GroupMember extends TenantEntity {
  @ManyToOne(() => Group, { mapToPk: true, fieldName: 'group_id', deleteRule: 'cascade' })
  groupId: string;

  @ManyToOne(() => Membership, { mapToPk: true, fieldName: 'membership_id', deleteRule: 'cascade' })
  membershipId: string;

  @Property({ type: 'uuid' })
  userId: string;

  /** The principal that added the member. */
  @Property({ length: 100 })
  addedBy: string;

  constructor(groupId: string, membershipId: string, userId: string, addedBy: string) {
    super();
    this.groupId = groupId;
    this.membershipId = membershipId;
    this.userId = userId;
    this.addedBy = addedBy;
  }
}
