import { Migration } from '@mikro-orm/migrations';

/**
 * Operator access (issue 17, item 5): the company's `operator_access` policy (`open` keeps today's behaviour) and
 * the tenant table of platform operators' access requests under the `approval` policy (RLS, UNIQUE (company_id, id)).
 */
export class Migration20261207063104_operator_access extends Migration {
  override name = 'Migration20261207063104_operator_access';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "operator_access_requests" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "operator_id" uuid not null, "operator_email" varchar(320) not null, "reason" text not null, "mode" text not null, "status" text not null, "expires_at" timestamptz not null, "decided_by" uuid null, "decided_at" timestamptz null, "redeemed_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `create index "operator_access_requests_status_idx" on "operator_access_requests" ("company_id", "status", "id");`,
    );
    this.addSql(
      `alter table "operator_access_requests" add constraint "operator_access_requests_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(`alter table "companies" add "operator_access" text not null default 'open';`);
    this.addSql(
      `alter table "companies" add constraint "companies_operator_access_check" check ("operator_access" in ('open', 'approval', 'off'));`,
    );

    this.addSql(
      `alter table "operator_access_requests" add constraint "operator_access_requests_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "operator_access_requests" add constraint "operator_access_requests_mode_check" check ("mode" in ('read', 'write'));`,
    );
    this.addSql(
      `alter table "operator_access_requests" add constraint "operator_access_requests_status_check" check ("status" in ('pending', 'approved', 'denied', 'redeemed'));`,
    );
    this.addSql(`alter table "operator_access_requests" enable row level security;`);
    this.addSql(`alter table "operator_access_requests" force row level security;`);
    this.addSql(
      `create policy "operator_access_requests_tenant_isolation" on "operator_access_requests" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "operator_access_requests";`);
    this.addSql(`alter table "companies" drop constraint "companies_operator_access_check";`);
    this.addSql(`alter table "companies" drop column "operator_access";`);
  }
}
