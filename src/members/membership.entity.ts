import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { ROLES, type Role } from '../authz/roles.js';
import { SESSION, settingSql, TenantEntity } from '../tenancy/tenant.entity.js';
import { User } from '../users/user.entity.js';

/**
 * The last-owner rule, enforced by the database: a DEFERRABLE INITIALLY DEFERRED constraint trigger, checked at
 * commit (so a transfer may demote one owner and promote another in any order). While the company exists it
 * locks the company row, which serialises the check across concurrent transactions (two owners demoting each
 * other: the second to commit sees the first's change and is refused), then raises SQLSTATE TY409 (409) when
 * no owner remains. A company purge deletes the company row first, so its cascade passes.
 * MikroORM's trigger metadata has no constraint triggers: this is its raw-DDL `expression` form, which the
 * schema diff creates but never compares (`migrate:check` stays clean). Its function follows the ORM's
 * `<table>_<trigger>_fn` naming so a drop removes both.
 */
export const LAST_OWNER_TRIGGER_SQL = `create or replace function "memberships_last_owner_fn"() returns trigger as $$
begin
  if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then return null; end if;
  -- Serialise the owner checks of one company (an advisory lock: a row lock on companies would deadlock with
  -- writers, whose foreign keys share-lock that row while they hold the audit chain head).
  perform pg_advisory_xact_lock(hashtextextended('owners:' || old.company_id::text, 0));
  if not exists (select 1 from companies where id = old.company_id) then return null; end if;
  if not exists (select 1 from memberships m where m.company_id = old.company_id and m.role = 'owner') then
    raise exception 'A company must keep at least one owner: make another member owner (or transfer ownership) first' using errcode = 'TY409';
  end if;
  return null;
end;
$$ language plpgsql;
create constraint trigger "last_owner" after update or delete on "memberships" deferrable initially deferred for each row execute function "memberships_last_owner_fn"();`;

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
  triggers: [
    { name: 'last_owner', timing: 'after', events: ['update', 'delete'], expression: LAST_OWNER_TRIGGER_SQL },
  ],
})
@Unique({ name: 'memberships_company_user_unique', properties: ['companyId', 'user'] })
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
