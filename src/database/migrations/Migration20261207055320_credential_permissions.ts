import { Migration } from '@mikro-orm/migrations';

/**
 * Scoped machine credentials (issue 17): an API key or an application may carry a list of permissions; at use it
 * acts with that list ∩ its creator's current effective permissions ∩ its role's. Null: its role alone.
 */
export class Migration20261207055320_credential_permissions extends Migration {
  override name = 'Migration20261207055320_credential_permissions';

  override up(): void | Promise<void> {
    this.addSql(`alter table "applications" add "permissions" text[] null;`);

    this.addSql(`alter table "api_keys" add "permissions" text[] null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "api_keys" drop column "permissions";`);

    this.addSql(`alter table "applications" drop column "permissions";`);
  }
}
