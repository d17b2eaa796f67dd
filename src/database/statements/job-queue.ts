import pg from 'pg';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Deletes one company's jobs from the job queue (pg-boss), in `tx` (the purge's transaction). pg-boss's tables are
 * not entities and its API needs a started instance, which the command-line purge does not have: one statement per
 * queue, parameters bound, matching jobs by the `companyId` of their payload (a containment test on `data`).
 * pg-boss recounts its queue statistics at its next maintenance. Returns how many jobs went.
 */
export async function deleteCompanyJobs(
  tx: EntityManager,
  schema: string,
  queues: readonly string[],
  companyId: string,
): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Not a schema name: ${schema}`);
  let deleted = 0;
  for (const queue of queues) {
    const result = await tx
      .getConnection()
      .execute<{ affectedRows: number }>(
        `delete from ${schema}.job where name = ? and data @> ?::jsonb`,
        [queue, JSON.stringify({ companyId })],
        'run',
        tx.getTransactionContext(),
      );
    deleted += result.affectedRows;
  }
  return deleted;
}

/**
 * Lets the application role use pg-boss's schema, as the owner: DML on its tables and sequences, now and for
 * tables a later pg-boss upgrade adds. The application itself never runs DDL (it starts pg-boss with
 * `migrate: false`). Called by `npm run migrate` after pg-boss installed its schema.
 */
export async function grantJobQueue(ownerUrl: string, schema: string, appRole: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const role = client.escapeIdentifier(appRole);
    const name = client.escapeIdentifier(schema);
    for (const sql of [
      `grant usage on schema ${name} to ${role}`,
      `grant select, insert, update, delete on all tables in schema ${name} to ${role}`,
      `grant usage, select, update on all sequences in schema ${name} to ${role}`,
      `alter default privileges in schema ${name} grant select, insert, update, delete on tables to ${role}`,
      `alter default privileges in schema ${name} grant usage, select, update on sequences to ${role}`,
    ]) {
      await client.query(sql);
    }
  } finally {
    await client.end();
  }
}
