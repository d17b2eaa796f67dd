import type pg from 'pg';
import { newId } from '../../src/common/ids.js';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/audit/canonical-json.js';
import { hashedPart, type AuditRecord } from '../../src/audit/audit-record.js';

/** What a seeded event says (the rest of the record is filled in by `seedAuditChain`). */
export type SeededEvent = Pick<AuditRecord, 'action' | 'actor' | 'target' | 'metadata'>;

const UPDATED = (companyId: string, seq: number): SeededEvent => ({
  action: 'company.updated',
  actor: { type: 'system', id: 'system' },
  target: { type: 'Company', id: companyId },
  metadata: { fields: ['name'], n: seq },
});

/**
 * Appends `count` valid events to a company's chain directly as the database owner (fixtures and benchmarks:
 * thousands of events in a second, instead of one transaction each through the app). The chain is built in
 * Node with the app's own hash definition, continues from the current head, and the head is moved to its end.
 * Not for concurrent use with appends through the app on the same company.
 */
export async function seedAuditChain(
  owner: pg.Pool,
  companyId: string,
  count: number,
  options: {
    chunk?: number;
    startAt?: Date;
    stepMs?: number;
    /** The `index`-th event of this call (default: a `company.updated` by the system). */
    event?: (index: number, seq: number) => SeededEvent;
  } = {},
): Promise<{ firstSeq: number; lastSeq: number; lastHash: string }> {
  const chunk = options.chunk ?? 5_000;
  const stepMs = options.stepMs ?? 1;
  const event = options.event ?? ((_index: number, seq: number) => UPDATED(companyId, seq));
  const head = await owner.query<{ seq: string; hash: string }>(
    'select seq, hash from audit_chain_heads where company_id = $1',
    [companyId],
  );
  let seq = head.rows[0] ? Number(head.rows[0].seq) : 0;
  let prevHash = head.rows[0]?.hash ?? GENESIS_HASH;
  const firstSeq = seq + 1;
  let time = (options.startAt ?? new Date()).getTime();

  for (let done = 0; done < count;) {
    const n = Math.min(chunk, count - done);
    const columns: unknown[][] = Array.from({ length: 17 }, () => []);
    for (let i = 0; i < n; i++) {
      seq += 1;
      time += stepMs;
      const record: AuditRecord = {
        id: newId(),
        companyId,
        seq,
        occurredAt: new Date(time).toISOString(),
        actionVersion: 1,
        context: { requestId: `seed-${seq}`, ip: null, userAgent: null },
        ...event(done + i, seq),
        prevHash,
        hash: '',
      };
      record.hash = chainHash(prevHash, canonicalJson(hashedPart(record)));
      prevHash = record.hash;
      const row = [
        record.id,
        companyId,
        seq,
        record.occurredAt,
        record.action,
        record.actionVersion,
        record.actor.type,
        record.actor.id,
        record.actor.onBehalfOf ?? null,
        record.target?.type,
        record.target?.id,
        record.context.requestId,
        null,
        null,
        JSON.stringify(record.metadata),
        record.prevHash,
        record.hash,
      ];
      row.forEach((v, c) => columns[c].push(v));
    }
    await owner.query(
      `insert into audit_events (id, company_id, seq, occurred_at, action, action_version, actor_type, actor_id,
         actor_on_behalf_of, target_type, target_id, request_id, ip, user_agent, metadata, prev_hash, hash)
       select * from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::timestamptz[], $5::text[], $6::smallint[],
         $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
         $15::jsonb[], $16::text[], $17::text[])`,
      columns,
    );
    done += n;
  }
  const moved = await owner.query(
    'update audit_chain_heads set seq = $2, hash = $3, updated_at = now() where company_id = $1',
    [companyId, seq, prevHash],
  );
  if (moved.rowCount === 0) {
    await owner.query('insert into audit_chain_heads (id, company_id, seq, hash) values ($1, $2, $3, $4)', [
      newId(),
      companyId,
      seq,
      prevHash,
    ]);
  }
  return { firstSeq, lastSeq: seq, lastHash: prevHash };
}
