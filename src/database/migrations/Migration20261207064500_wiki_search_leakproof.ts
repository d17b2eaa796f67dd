import { Migration } from '@mikro-orm/migrations';

/**
 * Wiki search under row-level security used the GIN index for the company only, never for the words: a
 * non-leakproof operator in a query on a table with a policy may not run before the policy's condition, so
 * PostgreSQL cannot use `search @@ q` as an index condition for `tenantry_app` and filters every page of the
 * company instead (255 ms against 1.3 ms for a company of 10,000 pages, docs/benchmarks.md "Wiki search"). Marking
 * the match function `ts_match_vq` LEAKPROOF lets the planner use both columns of `wiki_pages_search_idx`.
 *
 * Why this is safe here: leakproof means the function reveals nothing about its arguments except through its
 * result (no errors or notices that depend on a row's data); `ts_match_vq` only compares a tsvector with a
 * tsquery. And no client writes SQL as the application role: every query is the application's own.
 *
 * Changing a catalog function needs a superuser. Run as anyone else, this migration changes nothing and says so
 * (a notice): search stays correct, only slower on large companies; a superuser can run the same ALTER later.
 */
export class Migration20261207064500_wiki_search_leakproof extends Migration {
  override name = 'Migration20261207064500_wiki_search_leakproof';

  override up(): void {
    this.addSql(`do $$ begin
      if exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
        alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof;
      else
        raise notice 'wiki search: run as a superuser "alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof" so that searches use the words of the GIN index under row-level security';
      end if;
    end $$;`);
  }

  override down(): void {
    this.addSql(`do $$ begin
      if exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
        alter function pg_catalog.ts_match_vq(tsvector, tsquery) not leakproof;
      end if;
    end $$;`);
  }
}
