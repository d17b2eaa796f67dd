import { randomBytes } from 'node:crypto';
import { call } from '../../test/harness/http.js';
import {
  defineIsolation,
  type BuildContext,
  type Json,
  type RecipeContext,
} from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');
const IF_MATCH = { 'If-Match': '"1"' };

interface BoardJson {
  id: string;
  columns: { id: string; name: string }[];
}

async function board(ctx: RecipeContext): Promise<BoardJson> {
  return (await ctx.prep('POST', '/v1/boards', ctx.a.manager, { name: `Audit board ${hex()}` })) as BoardJson;
}

async function card(ctx: RecipeContext): Promise<{ board: BoardJson; card: Json }> {
  const b = await board(ctx);
  const c = await ctx.prep('POST', `/v1/boards/${b.id}/cards`, ctx.a.member, {
    columnId: b.columns[0].id,
    title: `Audit card ${hex()}`,
  });
  return { board: b, card: c };
}

/** Boards, columns and cards in the cross-tenant and audit-coverage suites. */
export const isolation = defineIsolation({
  fixtures: {
    board: async ({ t, s }: BuildContext) => {
      const name = `XT Board ${hex()}`;
      const description = `xt-board-description-${hex()}`;
      const res = await call(t, 'POST', '/v1/boards', {
        token: s.manager.accessToken,
        body: { name, description, columns: [`XT Column ${hex()}`, `XT Other ${hex()}`] },
      });
      if (res.status !== 201) throw new Error(`board fixture: ${res.status} ${res.text}`);
      const body = res.body as BoardJson;
      return {
        id: body.id,
        markers: [body.id, name, description, ...body.columns.flatMap((c) => [c.id, c.name])],
        extra: { columnId: body.columns[0].id, otherColumnId: body.columns[1].id },
      };
    },
    column: async ({ need }: BuildContext) => {
      const id = (await need('board')).extra!.otherColumnId;
      return { id, markers: [id] };
    },
    card: async ({ t, s, need }: BuildContext) => {
      const b = await need('board');
      const title = `XT Card ${hex()}`;
      const description = `xt-card-description-${hex()}`;
      const label = `xt-label-${hex()}`;
      const res = await call(t, 'POST', `/v1/boards/${b.id}/cards`, {
        token: s.member.accessToken,
        body: {
          columnId: b.extra!.columnId,
          title,
          description,
          labels: [label],
          assigneeId: s.member.userId,
          runId: (await need('run')).id,
        },
      });
      if (res.status !== 201) throw new Error(`card fixture: ${res.status} ${res.text}`);
      const id = (res.body as { id: string }).id;
      return { id, markers: [id, title, description, label] };
    },
  },
  routes: {
    'GET /v1/boards/{id}': { params: { id: 'board' } },
    'PATCH /v1/boards/{id}': { params: { id: 'board' }, body: () => ({ name: 'Probe' }) },
    'DELETE /v1/boards/{id}': { params: { id: 'board' } },
    'POST /v1/boards/{id}/columns': { params: { id: 'board' }, body: () => ({ name: 'Probe' }) },
    'PATCH /v1/boards/{id}/columns/{columnId}': {
      params: { id: 'board', columnId: 'column' },
      body: () => ({ name: 'Probe', wipLimit: 3 }),
    },
    'DELETE /v1/boards/{id}/columns/{columnId}': { params: { id: 'board', columnId: 'column' } },
    'GET /v1/boards/{id}/cards': { params: { id: 'board' } },
    'POST /v1/boards/{id}/cards': {
      params: { id: 'board' },
      body: (a) => ({ columnId: a.column, title: 'Probe' }),
    },
    'GET /v1/cards/{id}': { params: { id: 'card' } },
    'PATCH /v1/cards/{id}': { params: { id: 'card' }, body: () => ({ title: 'Probe' }), headers: IF_MATCH },
    'DELETE /v1/cards/{id}': { params: { id: 'card' } },
    'POST /v1/cards/{id}/move': {
      params: { id: 'card' },
      body: (a) => ({ columnId: a.column }),
      headers: IF_MATCH,
    },
  },
  recipes: {
    'POST /v1/boards': {
      actions: ['board.created'],
      run: async ({ a, send }) => ({
        res: await send('POST', '/v1/boards', { token: a.manager.accessToken, body: { name: 'Audit' } }),
        companyId: a.companyId,
      }),
    },
    'PATCH /v1/boards/{id}': {
      actions: ['board.updated'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('PATCH', `/v1/boards/${b.id}`, {
          token: ctx.a.manager.accessToken,
          body: { name: 'Renamed' },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'DELETE /v1/boards/{id}': {
      actions: ['board.deleted'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('DELETE', `/v1/boards/${b.id}`, { token: ctx.a.manager.accessToken });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'POST /v1/boards/{id}/columns': {
      actions: ['column.created'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('POST', `/v1/boards/${b.id}/columns`, {
          token: ctx.a.manager.accessToken,
          body: { name: 'Review', wipLimit: 2 },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'PATCH /v1/boards/{id}/columns/{columnId}': {
      actions: ['column.updated'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('PATCH', `/v1/boards/${b.id}/columns/${b.columns[2].id}`, {
          token: ctx.a.manager.accessToken,
          body: { afterColumnId: null },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'DELETE /v1/boards/{id}/columns/{columnId}': {
      actions: ['column.deleted'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('DELETE', `/v1/boards/${b.id}/columns/${b.columns[1].id}`, {
          token: ctx.a.manager.accessToken,
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'POST /v1/boards/{id}/cards': {
      actions: ['card.created'],
      run: async (ctx) => {
        const b = await board(ctx);
        const res = await ctx.send('POST', `/v1/boards/${b.id}/cards`, {
          token: ctx.a.member.accessToken,
          body: { columnId: b.columns[0].id, title: 'Audit' },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'PATCH /v1/cards/{id}': {
      actions: ['card.updated'],
      run: async (ctx) => {
        const { card: c } = await card(ctx);
        const res = await ctx.send('PATCH', `/v1/cards/${c.id}`, {
          token: ctx.a.member.accessToken,
          headers: IF_MATCH,
          body: { labels: ['audited'] },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'POST /v1/cards/{id}/move': {
      actions: ['card.moved'],
      run: async (ctx) => {
        const { board: b, card: c } = await card(ctx);
        const res = await ctx.send('POST', `/v1/cards/${c.id}/move`, {
          token: ctx.a.member.accessToken,
          headers: IF_MATCH,
          body: { columnId: b.columns[1].id },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'DELETE /v1/cards/{id}': {
      actions: ['card.deleted'],
      run: async (ctx) => {
        const { card: c } = await card(ctx);
        const res = await ctx.send('DELETE', `/v1/cards/${c.id}`, { token: ctx.a.member.accessToken });
        return { res, companyId: ctx.a.companyId };
      },
    },
  },
});
