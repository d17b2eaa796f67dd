import type { Opt } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { DEFAULT_PLAN } from '../config/plans.js';
import { BaseEntity } from '../database/base.entity.js';
import { User } from '../users/user.entity.js';

/**
 * An account: the customer's billing entity, which owns companies and carries their plan. A registry row like
 * `companies` and `users`, never a tenant context: its owner sees the directory of its companies (ids, names,
 * slugs) and counts, never their data. The account survives the deletion of its last company.
 */
@Entity({ tableName: 'accounts' })
export class Account extends BaseEntity {
  @Property({ length: 200 })
  name: string;

  /**
   * The account owner, changed by the owner's ownership transfer. Null only for an account migrated from a
   * company that had no member at all (nobody can answer for it over the API; its plan is still set by the CLI),
   * or after the owner's user row was deleted.
   */
  @Index({ name: 'accounts_owner_user_idx' })
  @ManyToOne(() => User, {
    mapToPk: true,
    fieldName: 'owner_user_id',
    nullable: true,
    deleteRule: 'set null',
  })
  ownerUserId: string | null;

  /** A plan name of the configuration (`src/config/plans.ts`); set by the CLI only. */
  @Property({ type: 'text', default: DEFAULT_PLAN })
  plan: Opt<string> = DEFAULT_PLAN;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(name: string, ownerUserId: string | null) {
    super();
    this.name = name;
    this.ownerUserId = ownerUserId;
  }
}
