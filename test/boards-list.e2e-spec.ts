import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BoardColumn } from '../src/boards/board-column.entity.js';
import { toCardRowDto } from '../src/boards/card-views.js';
import { compareRanks } from '../src/boards/ranks.js';
import { newId } from '../src/common/ids.js';
import type { BoardCardRow } from '../src/tenancy/board-cards.js';
import { ScopedReader, type ScopedFunction } from '../src/tenancy/scoped-reader.js';
import { TenancyService } from '../src/tenancy/tenancy.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { call } from './harness/http.js';
import { withoutRequestId } from './harness/problem.js';
import { client, publishDraft } from './harness/runs.js';
import { createCompanySession, type Actor, type CompanySession } from './harness/session.js';

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const hex = () => randomBytes(4).toString('hex');

/** The rows the route listed before its JSON was written by PostgreSQL (migration `board_cards_read`). */
const BOARD_CARDS: ScopedFunction = { name: 'tenant_board_cards', arity: 4 };

/**
 * `GET /v1/boards/{id}/cards` answers JSON that PostgreSQL writes (migration `board_cards_json`). These tests pin
 * it, byte for byte, to what the route answered before: the cards read by `tenant_board_cards`, ordered by column
 * rank, mapped by `toCardRowDto` (the DTO every other card route answers with) and `JSON.stringify`d; and they
 * count the statements of a listing (one).
 */
describe('listing a board (JSON written by PostgreSQL)', () => {
  let t: TestApp;
  let s: CompanySession;
  let other: CompanySession;

  const list = (boardId: string, query: Record<string, string> = {}, actor: Actor = s.member) =>
    call(t, 'GET', `/v1/boards/${boardId}/cards`, { token: actor.accessToken, query });

  const ok = (res: Response, status = 200): Json => {
    expect(res.status, `${res.status} ${res.text}`).toBe(status);
    return res.body as Json;
  };

  /**
   * What the route answered before PostgreSQL wrote the JSON, for the same rows (CardsService.listBoard at c0e6841,
   * timestamps read as PostgreSQL means them: src/database/timestamps.ts).
   */
  const before = (
    session: CompanySession,
    boardId: string,
    q: { columnId?: string; assigneeId?: string; label?: string },
  ): Promise<string> =>
    t.app.get(TenancyService).run(
      {
        companyId: session.companyId,
        principalId: session.member.userId,
        principalType: 'user',
        role: 'member',
        userId: session.member.userId,
        actingUserId: session.member.userId,
        operatorId: undefined,
      },
      async (em) => {
        const columns = await em.find(BoardColumn, { boardId }, { fields: ['id', 'rank'] });
        const cards = await t.app
          .get(ScopedReader)
          .rows<BoardCardRow>(BOARD_CARDS, [
            boardId,
            q.columnId ?? null,
            q.assigneeId ?? null,
            q.label ?? null,
          ]);
        const order = new Map([...columns].sort(compareRanks).map((c, i) => [c.id, i] as const));
        cards.sort((a, b) => (order.get(a.columnId) ?? 0) - (order.get(b.columnId) ?? 0));
        return JSON.stringify({ data: cards.map(toCardRowDto), nextCursor: null });
      },
    );

  const startRun = async (): Promise<string> => {
    const version = await publishDraft(t, s.manager, {
      steps: [{ id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
    });
    const run = await client(t, s.member).post('/v1/runs', { draftVersionId: version });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    return run.body.id as string;
  };

  let board: Json;
  let todo: Json;
  let doing: Json;
  let done: Json;
  let featured: Json;
  let runId: string;

  beforeAll(async () => {
    t = await startTestApp();
    [s, other] = await Promise.all([
      createCompanySession(t, `Board list ${hex()}`),
      createCompanySession(t, `Board list other ${hex()}`),
    ]);
    board = ok(
      await call(t, 'POST', '/v1/boards', { token: s.manager.accessToken, body: { name: 'List' } }),
      201,
    );
    [todo, doing, done] = board.columns as Json[];
    runId = await startRun();
    const card = async (columnId: string, body: Json = {}): Promise<Json> =>
      ok(
        await call(t, 'POST', `/v1/boards/${board.id}/cards`, {
          token: s.member.accessToken,
          body: { columnId, title: `Card ${hex()}`, ...body },
        }),
        201,
      );
    // In `doing` first, so that creation order is not board order.
    await card(doing.id, { title: 'In doing', labels: ['ui'] });
    featured = await card(todo.id, {
      title: 'Quotes " \\ and tabs\t, ünïcödé, 😀, \u2028',
      description: 'Some *markdown*\n\n- a "list"\r\n- \u0001\u001f control </script>',
      labels: ['bug', 'ui', 'ü'],
      assigneeId: s.manager.userId,
      dueAt: '2027-01-31T12:34:56.789Z',
      runId,
    });
    await card(todo.id, { title: 'Plain' });
    await card(done.id, { title: 'Done', labels: ['ui', 'bug'], dueAt: '1900-01-01T00:00:00.000Z' });
    await card(done.id, { title: 'Old due date', dueAt: '1850-03-01T00:00:00.000Z', labels: ['bug'] });
    // The API refuses a year before 100; a row written otherwise is listed with its own date all the same.
    const year50 = await card(done.id, { title: 'Due date in year 50' });
    await t.owner.query(`update cards set due_at = '0050-06-15 08:00:00+00' where id = $1`, [year50.id]);
    // A terminal status, which the worker leaves alone: the card shows its run's current status.
    await t.owner.query("update runs set status = 'cancelled' where id = $1", [runId]);
    // As stored by PostgreSQL's now(): microseconds, which the answer truncates to milliseconds.
    await t.owner.query(
      `update cards set created_at = '2026-12-07 10:11:12.345678+00', updated_at = '2026-12-07 10:11:12.999999+00'
       where id = $1`,
      [featured.id],
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the card DTO, field by field and in order, for a card with labels, assignee, due date and run', async () => {
    const res = await list(board.id, { columnId: todo.id });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers.etag).toBeUndefined();
    const body = ok(res);
    expect(Object.keys(body)).toEqual(['data', 'nextCursor']);
    expect(body.nextCursor).toBeNull();
    const [first] = body.data as Json[];
    expect(Object.keys(first)).toEqual([
      'id',
      'boardId',
      'columnId',
      'rank',
      'title',
      'description',
      'labels',
      'dueAt',
      'assigneeId',
      'run',
      'version',
      'createdBy',
      'updatedBy',
      'createdAt',
      'updatedAt',
    ]);
    expect(first).toEqual({
      ...featured,
      run: { id: runId, status: 'cancelled' },
      createdAt: '2026-12-07T10:11:12.345Z',
      updatedAt: '2026-12-07T10:11:12.999Z',
    });
    expect(Object.keys(first.run as Json)).toEqual(['id', 'status']);
    // The card's own route answers the same DTO.
    expect(ok(await call(t, 'GET', `/v1/cards/${featured.id}`, { token: s.member.accessToken }))).toEqual(
      first,
    );
    expect((body.data as Json[]).map((c) => c.title)).toEqual([featured.title, 'Plain']);
  });

  it('answers, byte for byte, what the DTO mapping and JSON.stringify gave, for every filter', async () => {
    // Ties: two cards of one rank (ordered by id), two columns of one rank (ordered by id).
    const tied = await t.owner.query<{ id: string }>(
      `select id from cards where board_id = $1 and column_id = $2 order by rank limit 1`,
      [board.id, todo.id],
    );
    await t.owner.query(
      `update cards set rank = (select rank from cards where id = $1) where title = 'Plain'
      and board_id = $2`,
      [tied.rows[0].id, board.id],
    );
    await t.owner.query(
      `update board_columns set rank = (select rank from board_columns where id = $1) where id = $2`,
      [done.id, doing.id],
    );
    const queries: Record<string, string>[] = [
      {},
      { columnId: todo.id },
      { columnId: doing.id },
      { columnId: done.id },
      { assigneeId: s.manager.userId },
      { assigneeId: s.member.userId },
      { label: 'ui' },
      { label: 'bug', columnId: done.id },
      { label: 'ü' },
      { label: 'none' },
      { label: '' },
    ];
    const compare = async () => {
      for (const query of queries) {
        const res = await list(board.id, query);
        expect(res.status, JSON.stringify(query)).toBe(200);
        expect(res.text, JSON.stringify(query)).toBe(await before(s, board.id, query));
      }
    };
    await compare();
    // Cards due before 1900 are written by PostgreSQL too, with the dates every other card route answers (the
    // listing wrote year 50 as 1950 when Node parsed PostgreSQL's text with `new Date`).
    const dueAt = Object.fromEntries(
      (ok(await list(board.id, { columnId: done.id })).data as Json[]).map((c) => [c.title, c.dueAt]),
    );
    expect(dueAt).toEqual({
      Done: '1900-01-01T00:00:00.000Z',
      'Old due date': '1850-03-01T00:00:00.000Z',
      'Due date in year 50': '0050-06-15T08:00:00.000Z',
    });
    const doneCards = ok(await list(board.id, { columnId: done.id })).data as Json[];
    for (const c of doneCards) {
      expect(ok(await call(t, 'GET', `/v1/cards/${c.id}`, { token: s.member.accessToken }))).toEqual(c);
    }
    // A move answers the card from a row read without the ORM: the same date.
    const year50 = doneCards.find((c) => c.title === 'Due date in year 50') as Json;
    const moved = await call(t, 'POST', `/v1/cards/${year50.id}/move`, {
      token: s.member.accessToken,
      headers: { 'If-Match': `"${year50.version}"` },
      body: { columnId: done.id },
    });
    expect(ok(moved).dueAt).toBe('0050-06-15T08:00:00.000Z');
    const all = ok(await list(board.id)).data as Json[];
    expect(all.map((c) => c.title).slice(0, 2)).toEqual([featured.title, 'Plain']);
    expect(all.find((c) => c.id === featured.id)?.run).toEqual({ id: runId, status: 'cancelled' });
    // An empty board answers the empty page.
    const empty = ok(
      await call(t, 'POST', '/v1/boards', { token: s.manager.accessToken, body: { name: 'E' } }),
      201,
    );
    const res = await list(empty.id);
    expect(res.text).toBe('{"data":[],"nextCursor":null}');
    expect(res.text).toBe(await before(s, empty.id, {}));
  });

  it("answers 404 alike for a missing and another company's board or column, the board first", async () => {
    const foreign = ok(
      await call(t, 'POST', '/v1/boards', { token: other.manager.accessToken, body: { name: 'Theirs' } }),
      201,
    );
    const problem = (res: Response) => ({ status: res.status, body: withoutRequestId(res.body as Json) });
    const missingBoard = problem(await list(newId()));
    expect(missingBoard).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND', detail: 'Board not found' },
    });
    expect(problem(await list(foreign.id))).toEqual(missingBoard);
    expect(problem(await list(foreign.id, { columnId: todo.id }))).toEqual(missingBoard);
    const missingColumn = problem(await list(board.id, { columnId: newId() }));
    expect(missingColumn).toMatchObject({ status: 404, body: { detail: 'Column not found' } });
    expect(problem(await list(board.id, { columnId: (foreign.columns as Json[])[0].id }))).toEqual(
      missingColumn,
    );
    // A UUID in upper case is the same id (`IsId` hands it on in lower case): the same column, the same page.
    expect((await list(board.id, { columnId: String(todo.id).toUpperCase() })).text).toBe(
      (await list(board.id, { columnId: todo.id })).text,
    );
    expect(
      problem(await list(board.id, { columnId: String((foreign.columns as Json[])[0].id).toUpperCase() })),
    ).toEqual(missingColumn);
    // The board id is a UUID in any case, as before.
    expect(ok(await list(String(board.id).toUpperCase(), { columnId: todo.id })).data).toHaveLength(2);
    expect(problem(await list(board.id, { columnId: 'nope' }))).toMatchObject({ status: 400 });
    expect((await list(board.id, {}, { ...s.member, accessToken: other.member.accessToken })).status).toBe(
      404,
    );
  });

  it('reads a listing in one statement, scoped to the company', async () => {
    await list(board.id, { columnId: todo.id }); // caches (the access of the member) warm
    // Every statement any pooled connection sends while the listing runs (the ORM's and `ScopedReader`'s).
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    let res: Response;
    let calls: unknown[][];
    try {
      res = await list(board.id, { columnId: todo.id });
    } finally {
      calls = [...spy.mock.calls];
      spy.mockRestore();
    }
    const sent = calls.map((args: unknown[]) => {
      const [first, second] = args as [string | { text: string; values?: unknown[] }, unknown];
      return typeof first === 'string'
        ? { text: first, values: Array.isArray(second) ? (second as unknown[]) : [] }
        : { text: first.text, values: first.values ?? [] };
    });
    expect(res.status).toBe(200);
    const workspace = sent.filter((q) => /\b(boards|board_columns|cards|tenant_board\w*)\b/.test(q.text));
    expect(workspace.map((q) => q.text)).toEqual([
      "select * from tenant_board_cards_json(set_config('app.company_id', $1::text, true)::uuid, $2, $3, $4, $5)",
    ]);
    expect(workspace[0].values).toEqual([s.companyId, board.id, todo.id, null, null]);
  });
});
