/**
 * The bare baseline (`bench/run.ts` starts it): the yardstick Tenantry is measured against, not a product.
 *
 * A minimal `node:http` server with `pg` and `jose` that serves the benchmarked routes from the same tables:
 * verify the access JWT, then one indexed query scoped by the token's company (`where company_id = $1`), as the
 * database owner (no row-level security), as named prepared statements (parsed and planned once per connection).
 * Responses are built by
 * Tenantry's own pure view functions, so both servers send the same bytes for the same rows.
 *
 * - `GET /health/live`
 * - `GET /v1/runs/{id}`: a run with its steps and verdicts (one query)
 * - `GET /v1/runs?limit=&cursor=`: the newest runs, keyset on id
 * - `POST /v1/connectors`: insert a connector and append its audit event to the company's hash chain, in one
 *   transaction (lock the chain head, insert the event, move the head)
 *
 * Environment: PORT, DATABASE_URL (owner), JWT_SECRET, DATABASE_POOL_MAX (10, as Tenantry's default).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { generateKeyBetween } from 'fractional-indexing';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { hashedPart, toAuditRecord } from '../../src/audit/audit-record.js';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/audit/canonical-json.js';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/jwt-claims.js';
import { newId } from '../../src/common/ids.js';
import { decodeCursor, toPage } from '../../src/common/pagination.js';
import {
  toRunDto,
  toRunSummary,
  type RunDetailRecord,
  type RunRecord,
  type StepRecord,
  type VerdictRecord,
} from '../../src/runs/run-views.js';

const key = new TextEncoder().encode(process.env.JWT_SECRET ?? '');
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOOL_ID = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

const RUN_COLUMNS = `r.id, r.status, r.source, r.template_ref_id as "templateRefId",
  r.template_key as "templateKey", r.template_version as "templateVersion",
  r.template_name as "templateName", r.step_count as "stepCount",
  r.current_step_index as "currentStepIndex", r.started_by as "startedBy", r.started_by_type as "startedByType",
  r.started_by_user_id as "startedByUserId", r.parked_step_id as "parkedStepId",
  r.parked_min_role as "parkedMinRole", r.parked_prompt as "parkedPrompt", r.parked_since as "parkedSince",
  r.failure_reason as "failureReason", r.cancel_requested_at as "cancelRequestedAt",
  r.created_at as "createdAt", r.updated_at as "updatedAt", r.finished_at as "finishedAt"`;

const ONE_RUN = `select ${RUN_COLUMNS}, r.input, r.definition,
  (select coalesce(json_agg(json_build_object('stepIndex', s.step_index, 'status', s.status,
      'attempts', s.attempts, 'output', s.output, 'error', s.error, 'startedAt', s.started_at,
      'finishedAt', s.finished_at) order by s.step_index), '[]')
    from run_steps s where s.company_id = $1 and s.run_id = r.id) as steps,
  (select coalesce(json_agg(json_build_object('stepId', v.step_id, 'decision', v.decision,
      'comment', v.comment, 'givenBy', v.given_by, 'givenByUserId', v.given_by_user_id,
      'createdAt', v.created_at) order by v.id), '[]')
    from run_verdicts v where v.company_id = $1 and v.run_id = r.id) as verdicts
  from runs r where r.company_id = $1 and r.id = $2`;

interface Claims {
  sub: string;
  company_id: string;
  role: string;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function claimsOf(req: IncomingMessage): Promise<Claims | undefined> {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  try {
    const { payload } = await jwtVerify(header.slice(7), key, {
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      algorithms: ['HS256'],
    });
    if (payload.token_type !== 'access' || typeof payload.company_id !== 'string') return undefined;
    return payload as unknown as Claims;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text);
}

async function getRun(claims: Claims, id: string, res: ServerResponse): Promise<void> {
  const { rows } = await pool.query<RunDetailRecord & { steps: StepRecord[]; verdicts: VerdictRecord[] }>({
    name: 'one_run',
    text: ONE_RUN,
    values: [claims.company_id, id],
  });
  if (!rows[0]) return send(res, 404, { status: 404, code: 'NOT_FOUND' });
  const { steps, verdicts, ...run } = rows[0];
  send(res, 200, toRunDto(run, steps, verdicts));
}

async function listRuns(claims: Claims, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 20)));
  const before = decodeCursor(query.get('cursor') ?? undefined);
  const { rows } = await pool.query<RunRecord>({
    name: before ? 'runs_before' : 'runs_newest',
    text: `select ${RUN_COLUMNS} from runs r where r.company_id = $1 ${before ? 'and r.id < $3' : ''}
      order by r.id desc limit $2`,
    values: before ? [claims.company_id, limit + 1, before] : [claims.company_id, limit + 1],
  });
  send(res, 200, toPage(rows, limit, toRunSummary));
}

/** The hand-written audit append: lock the company's chain head, insert the event, move the head. */
async function appendAudit(
  client: pg.PoolClient,
  claims: Claims,
  req: IncomingMessage,
  action: string,
  targetType: string,
  targetId: string,
  metadata: Record<string, unknown>,
): Promise<void> {
  const head = await client.query<{ seq: string; hash: string }>({
    name: 'lock_head',
    text: 'select seq, hash from audit_chain_heads where company_id = $1 for update',
    values: [claims.company_id],
  });
  const event = {
    id: newId(),
    companyId: claims.company_id,
    seq: Number(head.rows[0]?.seq ?? 0) + 1,
    occurredAt: new Date(),
    action,
    actionVersion: 1,
    actorType: 'user' as const,
    actorId: claims.sub,
    actorOnBehalfOf: null,
    targetType,
    targetId,
    requestId: newId(),
    ip: req.socket.remoteAddress ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    metadata,
    prevHash: head.rows[0]?.hash ?? GENESIS_HASH,
    hash: '',
  };
  event.hash = chainHash(event.prevHash, canonicalJson(hashedPart(toAuditRecord(event))));
  await client.query({
    name: 'insert_event',
    text: `insert into audit_events (id, company_id, seq, occurred_at, action, action_version, actor_type,
        actor_id, target_type, target_id, request_id, ip, user_agent, metadata, prev_hash, hash)
      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    values: [
      event.id,
      event.companyId,
      event.seq,
      event.occurredAt,
      event.action,
      event.actionVersion,
      event.actorType,
      event.actorId,
      event.targetType,
      event.targetId,
      event.requestId,
      event.ip,
      event.userAgent,
      event.metadata,
      event.prevHash,
      event.hash,
    ],
  });
  await client.query({
    name: 'move_head',
    text: 'update audit_chain_heads set seq = $2, hash = $3, updated_at = $4 where company_id = $1',
    values: [claims.company_id, event.seq, event.hash, event.occurredAt],
  });
}

async function createConnector(claims: Claims, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (claims.role !== 'admin' && claims.role !== 'owner') return send(res, 403, { status: 403 });
  const body = (await readBody(req)) as { toolId?: unknown; endpointUrl?: unknown; authScheme?: unknown };
  if (typeof body.toolId !== 'string' || !TOOL_ID.test(body.toolId) || typeof body.endpointUrl !== 'string') {
    return send(res, 400, { status: 400, code: 'VALIDATION_FAILED' });
  }
  const connector = {
    id: newId(),
    toolId: body.toolId,
    endpointUrl: new URL(body.endpointUrl).toString(),
    authScheme: typeof body.authScheme === 'string' ? body.authScheme : 'none',
  };
  const client = await pool.connect();
  try {
    await client.query('begin');
    const inserted = await client.query<{ created_at: Date; updated_at: Date }>({
      name: 'insert_connector',
      text: `insert into connectors (id, company_id, tool_id, endpoint_url, auth_scheme) values ($1, $2, $3, $4, $5)
        returning created_at, updated_at`,
      values: [
        connector.id,
        claims.company_id,
        connector.toolId,
        connector.endpointUrl,
        connector.authScheme,
      ],
    });
    await appendAudit(client, claims, req, 'connector.created', 'Connector', connector.id, {
      toolId: connector.toolId,
      authScheme: connector.authScheme,
      hasSecret: false,
    });
    await client.query('commit');
    send(res, 201, {
      ...connector,
      hasSecret: false,
      secretSetAt: null,
      createdAt: inserted.rows[0].created_at.toISOString(),
      updatedAt: inserted.rows[0].updated_at.toISOString(),
    });
  } catch (e) {
    await client.query('rollback');
    if ((e as { code?: string }).code === '23505') return send(res, 409, { status: 409, code: 'CONFLICT' });
    throw e;
  } finally {
    client.release();
  }
}

const CARD_COLUMNS = `c.id, c.board_id as "boardId", c.column_id as "columnId", c.rank, c.title, c.description,
  c.labels, c.due_at as "dueAt", c.assignee_id as "assigneeId", c.run_id as "runId", c.created_by as "createdBy",
  c.updated_by as "updatedBy", c.version, c.created_at as "createdAt", c.updated_at as "updatedAt"`;

/** A column's cards in rank order: one indexed query. */
async function listCards(claims: Claims, boardId: string, query: URLSearchParams, res: ServerResponse) {
  const { rows } = await pool.query({
    name: 'list_cards',
    text: `select ${CARD_COLUMNS} from cards c where c.company_id = $1 and c.board_id = $2 and c.column_id = $3
      order by c.rank`,
    values: [claims.company_id, boardId, query.get('columnId')],
  });
  send(res, 200, { data: rows });
}

/**
 * The same move as Tenantry's, bare: the top rank of the target column, the conditional single-row update
 * (If-Match: its version) and the audit append, one transaction.
 */
async function moveCard(
  claims: Claims,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = (await readBody(req)) as { columnId?: unknown };
  const version = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(String(req.headers['if-match'] ?? ''));
  if (!version) return send(res, 428, { status: 428, code: 'PRECONDITION_REQUIRED' });
  if (typeof body.columnId !== 'string' || !UUID.test(body.columnId)) {
    return send(res, 400, { status: 400, code: 'VALIDATION_FAILED' });
  }
  const client = await pool.connect();
  try {
    await client.query('begin');
    const top = await client.query<{ rank: string | null }>({
      name: 'top_rank',
      text: 'select min(rank) as rank from cards where company_id = $1 and column_id = $2 and id <> $3',
      values: [claims.company_id, body.columnId, id],
    });
    const updated = await client.query<Record<string, unknown> & { version: number }>({
      name: 'move_card',
      text: `update cards c set column_id = $3, rank = $4, version = version + 1, updated_by = $5, updated_at = now()
        where c.company_id = $1 and c.id = $2 and c.version = $6 returning ${CARD_COLUMNS}`,
      values: [
        claims.company_id,
        id,
        body.columnId,
        generateKeyBetween(null, top.rows[0]?.rank ?? null),
        claims.sub,
        Number(version[1]),
      ],
    });
    const card = updated.rows[0];
    if (!card) {
      await client.query('rollback');
      // As Tenantry: the 412 names the current version (its ETag), so the writer can read and retry.
      const current = await client.query<{ version: number }>({
        name: 'card_version',
        text: 'select version from cards where company_id = $1 and id = $2',
        values: [claims.company_id, id],
      });
      if (current.rows[0]) res.setHeader('etag', `"${current.rows[0].version}"`);
      return send(res, 412, { status: 412, code: 'PRECONDITION_FAILED' });
    }
    await appendAudit(client, claims, req, 'card.moved', 'Card', id, {
      toColumnId: body.columnId,
      version: card.version,
    });
    await client.query('commit');
    res.setHeader('etag', `"${card.version}"`);
    send(res, 200, card);
  } catch (e) {
    await client.query('rollback');
    throw e;
  } finally {
    client.release();
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://baseline');
  if (url.pathname === '/health/live') return send(res, 200, { status: 'ok' });
  const claims = await claimsOf(req);
  if (!claims) return send(res, 401, { status: 401, code: 'UNAUTHENTICATED' });
  if (req.method === 'GET' && url.pathname === '/v1/runs') return listRuns(claims, url.searchParams, res);
  if (req.method === 'GET' && url.pathname.startsWith('/v1/runs/')) {
    const id = url.pathname.slice('/v1/runs/'.length);
    if (!UUID.test(id)) return send(res, 400, { status: 400, code: 'VALIDATION_FAILED' });
    return getRun(claims, id, res);
  }
  if (req.method === 'POST' && url.pathname === '/v1/connectors') return createConnector(claims, req, res);
  const move = /^\/v1\/cards\/([^/]+)\/move$/.exec(url.pathname);
  if (req.method === 'POST' && move && UUID.test(move[1])) return moveCard(claims, move[1], req, res);
  const list = /^\/v1\/boards\/([^/]+)\/cards$/.exec(url.pathname);
  if (req.method === 'GET' && list && UUID.test(list[1]))
    return listCards(claims, list[1], url.searchParams, res);
  send(res, 404, { status: 404, code: 'NOT_FOUND' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    if (!res.headersSent) send(res, 500, { status: 500, code: 'INTERNAL' });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 3200), '127.0.0.1', () => {
  process.stdout.write(`baseline listening on ${process.env.PORT ?? 3200}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.end();
});
