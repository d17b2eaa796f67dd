import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { call } from '../../test/harness/http.js';
import { defineIsolation, type Built, type BuildContext, type Json } from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');

function body(res: Response, what: string): Json {
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body as Json;
}

/** A top-level page edited once (two revisions), with a child: its id, slug and newest revision. */
async function wikiPage({ t, s }: BuildContext): Promise<Built> {
  const word = `xtwiki${hex()}`;
  const title = `XT Wiki ${word}`;
  const page = body(
    await call(t, 'POST', '/v1/wiki/pages', {
      token: s.member.accessToken,
      body: { title, body: `Secret plans ${word}` },
    }),
    'wiki page',
  );
  const edited = body(
    await call(t, 'PATCH', `/v1/wiki/pages/${page.id}`, {
      token: s.member.accessToken,
      headers: { 'If-Match': '"1"' },
      body: { body: `Secret plans ${word}, edited` },
    }),
    'edit wiki page',
  );
  body(
    await call(t, 'POST', '/v1/wiki/pages', {
      token: s.member.accessToken,
      body: { title: `XT Child ${word}`, body: 'child', parentId: page.id as string },
    }),
    'wiki child page',
  );
  return {
    id: page.id as string,
    markers: [page.id as string, page.slug as string, word, edited.revisionId as string],
    extra: { slug: page.slug as string, revisionId: edited.revisionId as string },
  };
}

/**
 * The wiki's part of the cross-tenant and audit-coverage suites. PATCH sends a valid `If-Match`, though a missing
 * or foreign page answers 404 before the header is looked at (the steered probes send none).
 */
export const isolation = defineIsolation({
  fixtures: {
    wikiPage,
    wikiSlug: async ({ need }) => {
      const page = await need('wikiPage');
      return { id: page.extra!.slug, markers: [page.extra!.slug] };
    },
    wikiRevision: async ({ need }) => {
      const page = await need('wikiPage');
      return { id: page.extra!.revisionId, markers: [page.extra!.revisionId] };
    },
  },
  routes: {
    'GET /v1/wiki/pages/{id}': { params: { id: 'wikiPage' } },
    'PATCH /v1/wiki/pages/{id}': {
      params: { id: 'wikiPage' },
      headers: { 'If-Match': '"2"' },
      body: () => ({ title: 'Probe' }),
    },
    'DELETE /v1/wiki/pages/{id}': { params: { id: 'wikiPage' } },
    'GET /v1/wiki/pages/by-slug/{slug}': { params: { slug: 'wikiSlug' } },
    'GET /v1/wiki/pages/{id}/revisions': { params: { id: 'wikiPage' } },
    'GET /v1/wiki/pages/{id}/revisions/{revisionId}': {
      params: { id: 'wikiPage', revisionId: 'wikiRevision' },
    },
  },
  recipes: {
    'POST /v1/wiki/pages': {
      actions: ['wiki_page.created'],
      run: async ({ a, send }) => ({
        res: await send('POST', '/v1/wiki/pages', {
          token: a.member.accessToken,
          body: { title: `Audit page ${hex()}`, body: 'Audited.' },
        }),
        companyId: a.companyId,
      }),
    },
    'PATCH /v1/wiki/pages/{id}': {
      actions: ['wiki_page.updated', 'wiki_page.moved'],
      run: async ({ a, prep, send }) => {
        const parent = await prep('POST', '/v1/wiki/pages', a.member, {
          title: `Audit parent ${hex()}`,
          body: '',
        });
        const page = await prep('POST', '/v1/wiki/pages', a.member, {
          title: `Audit page ${hex()}`,
          body: '',
        });
        return {
          res: await send('PATCH', `/v1/wiki/pages/${page.id}`, {
            token: a.member.accessToken,
            headers: { 'If-Match': '"1"' },
            body: { body: 'Changed for the audit coverage check.', parentId: parent.id as string },
          }),
          companyId: a.companyId,
        };
      },
    },
    'DELETE /v1/wiki/pages/{id}': {
      actions: ['wiki_page.deleted'],
      run: async ({ a, prep, send }) => {
        const page = await prep('POST', '/v1/wiki/pages', a.member, {
          title: `Audit page ${hex()}`,
          body: '',
        });
        await prep('POST', '/v1/wiki/pages', a.member, {
          title: `Audit child ${hex()}`,
          body: '',
          parentId: page.id as string,
        });
        return {
          res: await send('DELETE', `/v1/wiki/pages/${page.id}?cascade=true`, {
            token: a.member.accessToken,
          }),
          companyId: a.companyId,
        };
      },
    },
  },
});
