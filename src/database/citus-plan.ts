/**
 * How the schema maps onto a Citus cluster distributed by tenant (docs/scaling.md says why, and mirrors this
 * list). `test/schema-walls.e2e-spec.ts` checks the live schema against it: every table in `public` is
 * distributed (it has `company_id` and is not listed below), a reference table, or coordinator-local; every
 * primary key and unique constraint of a distributed table includes `company_id` (the `(id)` primary key is
 * dropped at cut-over, `UNIQUE (company_id, id)` staying the key) except the credential hashes below.
 */
export const CITUS_PLAN = {
  /** The column every tenant table is distributed (and co-located) by. */
  distributionColumn: 'company_id',

  /**
   * Tables replicated to every node: small, read on every request, written rarely. `companies` and `users` are
   * global; `memberships` is a tenant table kept whole on every node because it is read by user across
   * companies (login, `GET /v1/me`, switch-company), which would otherwise be a multi-shard query on a request
   * path. `listings` (the community marketplace, issue 18) is not a tenant table at all: read by every company,
   * written only by its publisher (row-level security), small and rarely written; it references only
   * `companies`, and the publisher's `draft_listings` (distributed) references it. `accounts` (the billing entity
   * above companies) and its monthly run counter `account_run_usage` are registry rows like `companies`: no
   * `company_id`, no tenant data, referenced by `companies.account_id`. Distributed tables reference them with
   * plain keys (Citus allows distributed → reference, not back).
   */
  referenceTables: ['companies', 'users', 'memberships', 'listings', 'accounts', 'account_run_usage'],

  /** Bookkeeping that stays on the coordinator only (never joined with tenant data). */
  localTables: ['mikro_orm_migrations'],

  /**
   * Global unique keys on tables to be distributed: the credential hashes, looked up before any company is
   * known. A distributed table cannot keep a unique index without `company_id`; at cut-over each becomes
   * `UNIQUE (company_id, <column>)` and the global look-up moves to `credential_hashes`, a table distributed
   * by the hash itself (docs/scaling.md, "Credential look-ups by hash").
   */
  credentialHashes: {
    api_keys: 'key_hash',
    applications: 'client_id_hash',
    invitations: 'token_hash',
    refresh_tokens: 'token_hash',
  } as Readonly<Record<string, string>>,
} as const;
