import { Migration } from '@mikro-orm/migrations';

/**
 * Lock order (hand-written): the last-owner constraint trigger serialised the owner checks of a company with
 * `SELECT … FROM companies … FOR UPDATE` at commit. Every insert into a tenant table share-locks its company
 * row through the foreign key while the audit append holds the company's chain head, so that row lock could
 * deadlock against any writer of the company. It now takes a transaction-scoped advisory lock of its own
 * (`owners:<company>`), which takes part in no row-lock order; company administration does the same in the
 * application (`lockCompany`).
 */
export class Migration20261123020000_lock_order extends Migration {
  override name = 'Migration20261123020000_lock_order';

  override up(): void {
    this.addSql(`create or replace function "memberships_last_owner_fn"() returns trigger as $$
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
$$ language plpgsql;`);
  }

  override down(): void {
    this.addSql(`create or replace function "memberships_last_owner_fn"() returns trigger as $$
begin
  if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then return null; end if;
  perform 1 from companies where id = old.company_id for update;
  if not found then return null; end if;
  if not exists (select 1 from memberships m where m.company_id = old.company_id and m.role = 'owner') then
    raise exception 'A company must keep at least one owner: make another member owner (or transfer ownership) first' using errcode = 'TY409';
  end if;
  return null;
end;
$$ language plpgsql;`);
  }
}
