import { Migration } from '@mikro-orm/migrations';

export class Migration20261206020320_idempotency_sealed_response extends Migration {
  override name = 'Migration20261206020320_idempotency_sealed_response';

  override up(): void | Promise<void> {
    // The first response of `POST /v1/api-keys`, sealed under the company's data key, for a replay within 24 h.
    this.addSql(`alter table "idempotency_records" add "sealed_response" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "idempotency_records" drop column "sealed_response";`);
  }
}
