import pg from 'pg';

/**
 * Refuses to run the application as a role that row-level security does not bind: a superuser, a role with
 * BYPASSRLS, or the owner of the tables. The second tenancy wall only holds for a non-owner role.
 */
export async function assertAppRoleIsBound(appUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: appUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{
      role: string;
      rolsuper: boolean;
      rolbypassrls: boolean;
      owns: boolean;
    }>(
      `select r.rolname as role, r.rolsuper, r.rolbypassrls,
              exists (select 1 from pg_tables t where t.schemaname = 'public' and t.tableowner = current_user) as owns
         from pg_roles r where r.rolname = current_user`,
    );
    const me = rows[0];
    if (!me) throw new Error('cannot read the current role');
    if (me.rolsuper || me.rolbypassrls || me.owns) {
      throw new Error(
        `The application connects as "${me.role}", which bypasses row-level security ` +
          `(${me.rolsuper ? 'superuser' : me.rolbypassrls ? 'BYPASSRLS' : 'owner of the tables'}). ` +
          'Connect as the application role npm run migrate provisions (tenantry_app_<database>, the default ' +
          'when DATABASE_APP_URL is unset) or another member of tenantry_app.',
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
