import { randomBytes } from 'node:crypto';
import { call } from '../../test/harness/http.js';
import {
  defineIsolation,
  okBody,
  type BuildContext,
  type Json,
  type RecipeContext,
} from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');

const definition = (name: string) => ({
  name,
  description: 'A process offered to every company',
  category: 'finance',
  inputSchema: { type: 'object', properties: {} },
  steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Go?' }],
});

/** A published draft of the recipes' company, and its id. */
async function publishedDraft(ctx: RecipeContext): Promise<string> {
  const draft = await ctx.prep('POST', '/v1/drafts', ctx.a.manager, definition(`Listed ${hex()}`));
  await ctx.prep('POST', `/v1/drafts/${draft.id as string}/publish`, ctx.a.manager);
  return draft.id as string;
}

/**
 * Community listings in the cross-tenant and audit-coverage suites. The `listedDraft` fixture is a draft of the
 * company with a listing: the listing itself is meant to be read by every company, so its markers are what must
 * never reach one through it (the draft's id and key, its version's id), not its copied text.
 */
export const isolation = defineIsolation({
  fixtures: {
    listedDraft: async ({ t, s }: BuildContext) => {
      const name = `Shared process ${hex()}`;
      const draft = okBody(
        await call(t, 'POST', '/v1/drafts', { token: s.manager.accessToken, body: definition(name) }),
        'listing draft',
      );
      const published = okBody(
        await call(t, 'POST', `/v1/drafts/${draft.id as string}/publish`, { token: s.manager.accessToken }),
        'listing publish',
      );
      const listing: Json = okBody(
        await call(t, 'POST', `/v1/drafts/${draft.id as string}/listing`, {
          token: s.manager.accessToken,
          body: { publisherName: 'Cross-tenant guild' },
        }),
        'listing',
      );
      return {
        id: draft.id as string,
        markers: [draft.id as string, draft.key as string, published.publishedVersionId as string],
        extra: { listingId: listing.listingId as string },
      };
    },
  },
  routes: {
    'POST /v1/drafts/{id}/listing': {
      params: { id: 'listedDraft' },
      body: () => ({ publisherName: 'Probe' }),
    },
    'GET /v1/drafts/{id}/listing': { params: { id: 'listedDraft' } },
    'DELETE /v1/drafts/{id}/listing': { params: { id: 'listedDraft' } },
  },
  recipes: {
    'POST /v1/drafts/{id}/listing': {
      actions: ['marketplace.listed'],
      run: async (ctx) => {
        const id = await publishedDraft(ctx);
        const res = await ctx.send('POST', `/v1/drafts/${id}/listing`, {
          token: ctx.a.manager.accessToken,
          body: { publisherName: 'Audit guild', summary: 'Audited' },
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
    'DELETE /v1/drafts/{id}/listing': {
      actions: ['marketplace.unlisted'],
      run: async (ctx) => {
        const id = await publishedDraft(ctx);
        await ctx.prep('POST', `/v1/drafts/${id}/listing`, ctx.a.manager, { publisherName: 'Audit guild' });
        const res = await ctx.send('DELETE', `/v1/drafts/${id}/listing`, {
          token: ctx.a.manager.accessToken,
        });
        return { res, companyId: ctx.a.companyId };
      },
    },
  },
});
