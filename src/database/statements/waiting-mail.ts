import pg from 'pg';
import { SESSION } from '../../tenancy/tenant.entity.js';

/**
 * The outbox messages still waiting to be delivered, company by company (each read inside that company's
 * row-level-security context, as the owner: forced RLS binds the owner too). `npm run migrate` gives each of
 * them its pg-boss delivery job (the job's id is the message's, so a message that has its job is not queued
 * twice): messages written before mail became a pg-boss job per message are delivered too.
 */
export async function waitingMail(ownerUrl: string): Promise<{ companyId: string; messageId: string }[]> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const waiting: { companyId: string; messageId: string }[] = [];
    await client.query('begin read only');
    const companies = await client.query<{ id: string }>('select id from companies order by id');
    for (const { id } of companies.rows) {
      await client.query('select set_config($1, $2, true)', [SESSION.company, id]);
      const rows = await client.query<{ id: string }>(
        'select id from mail_outbox where company_id = $1 and sent_at is null and failed_at is null',
        [id],
      );
      for (const row of rows.rows) waiting.push({ companyId: id, messageId: row.id });
    }
    await client.query('commit');
    return waiting;
  } finally {
    await client.end();
  }
}
