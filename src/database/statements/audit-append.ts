import { SEQ_JOINT } from '../../audit/audit-record.js';
import { preparedStatement } from '../prepared-statements.js';

/**
 * The audit append (see `AuditService.record`), hand-written for speed: run through `scoped(...)`, inside the
 * context's company, in the transaction of the change it records.
 */

const EVENT_COLUMNS = `id, company_id, seq, occurred_at, action, action_version, actor_type, actor_id,
  actor_on_behalf_of, target_type, target_id, request_id, ip, user_agent, metadata, prev_hash, hash`;

/**
 * One statement, one round trip: lock the company's chain head, insert the event after it with the hash finished
 * from the head (`sha256(prevHash ‖ before ‖ prevHash ‖ SEQ_JOINT ‖ seq ‖ after)`, see `hashTemplate`), move the
 * head. No row comes back when the company has no head yet (its very first event).
 */
export const AUDIT_APPEND = preparedStatement(
  'audit.append',
  `with head as (
    select seq + 1 as seq, hash as prev from audit_chain_heads where company_id = ? for update
  ), appended as (
    insert into audit_events (${EVENT_COLUMNS})
    select ?, ?, head.seq, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, head.prev,
      encode(sha256(convert_to(head.prev || ? || head.prev || '${SEQ_JOINT}' || head.seq::text || ?, 'UTF8')), 'hex')
    from head
    returning seq, prev_hash, hash
  )
  update audit_chain_heads h set seq = appended.seq, hash = appended.hash, updated_at = ?
  from appended where h.company_id = ?
  returning appended.seq, appended.prev_hash, appended.hash`,
);

/** A company's first event (its registration): hashed here from the genesis hash, and its head created with it. */
export const AUDIT_APPEND_FIRST = preparedStatement(
  'audit.append_first',
  `with appended as (
    insert into audit_events (${EVENT_COLUMNS})
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)
  )
  insert into audit_chain_heads (id, company_id, seq, hash) values (?, ?, ?, ?)`,
);
