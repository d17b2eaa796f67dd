import { Migration } from '@mikro-orm/migrations';

/**
 * A company scheduled for deletion withdraws its community listings from every marketplace at once (they come
 * back if the deletion is cancelled, and go with the company at the purge): `listings.withdrawn_at`, set and
 * cleared by the publisher's own session (the publisher write policy), and `listing_installed` no longer counts
 * an install of a withdrawn listing.
 */
export class Migration20261207133000_listings_withdrawn extends Migration {
  override name = 'Migration20261207133000_listings_withdrawn';

  override up(): void | Promise<void> {
    this.addSql(`alter table "listings" add column "withdrawn_at" timestamptz null;`);
    this.addSql(`grant update ("withdrawn_at") on table "listings" to tenantry_app;`);
    this.addSql(`create or replace function listing_installed(p_installer uuid, p_listing uuid) returns int
      language sql security definer set search_path = pg_catalog, public as $fn$
        update public.listings set install_count = install_count + 1
         where id = p_listing and withdrawn_at is null
           and p_installer = nullif(current_setting('app.company_id', true), '')::uuid
        returning install_count
      $fn$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create or replace function listing_installed(p_installer uuid, p_listing uuid) returns int
      language sql security definer set search_path = pg_catalog, public as $fn$
        update public.listings set install_count = install_count + 1
         where id = p_listing and p_installer = nullif(current_setting('app.company_id', true), '')::uuid
        returning install_count
      $fn$;`);
    this.addSql(`alter table "listings" drop column "withdrawn_at";`);
  }
}
