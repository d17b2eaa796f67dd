import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

/**
 * Wiki search with many matches (migration `wiki_search_bounded`): only the newest matches are ranked, at most
 * 500 / (query nodes + 2 per phrase operator), and snippets come from a window at the first match when it shows
 * one. The rest of the search contract is in wiki.e2e-spec.ts.
 */

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A word of letters only (the English stemmer leaves it alone), unique to this run. */
const word = (stem: string) =>
  `${stem}${randomBytes(4)
    .toString('hex')
    .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)])}`;

const PAGES = 520;
/** Pages 1…20 are the oldest and mention the word most: they would rank first if every match were ranked. */
const OLDEST = 20;

describe('wiki search with many matches', () => {
  let t: TestApp;
  let a: CompanySession;
  const common = word('quokka');
  const second = word('wombat');
  const sparse = word('numbat');

  const search = (q: string, extra: Record<string, string> = {}) =>
    t
      .http()
      .get('/v1/wiki/search')
      .auth(a.member.accessToken, { type: 'bearer' })
      .query({ q, ...extra });

  /** Every hit the cursors reach, 50 at a time. */
  async function allHits(q: string): Promise<Json[]> {
    const hits: Json[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 30; page++) {
      const res = await search(q, { limit: '50', ...(cursor ? { cursor } : {}) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      hits.push(...(res.body.data as Json[]));
      cursor = (res.body.nextCursor as string | null) ?? undefined;
      if (!cursor) return hits;
    }
    throw new Error('the cursors never ended');
  }

  /** Ids in the order the function's contract gives: the `bound` newest matches, by rank then newest. */
  async function expectedIds(q: string, bound: number): Promise<string[]> {
    const { rows } = await t.owner.query<{ id: string }>(
      `select c.id from (
         select p.id, ts_rank_cd(p.search, w.q) as r
           from wiki_pages p, websearch_to_tsquery('english', $2) w(q)
          where p.company_id = $1 and p.search @@ w.q
          order by p.id desc limit $3) c
        order by c.r desc, c.id desc`,
      [a.companyId, q, bound],
    );
    return rows.map((r) => r.id);
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Wiki search bound');
    // Page g (ids in creation order, UUID v7 style): the two-word phrase once, the common word 10 times in the
    // 20 oldest pages and 1–5 times in the others; a sparse word in every 17th page (30 pages, one of them old).
    await t.owner.query(
      `insert into wiki_pages (id, company_id, title, slug, body, version, revision_id, created_by, updated_by)
       select (lpad(to_hex(1700000000000 + g), 12, '0') || '7' || substr(md5(g::text), 1, 3) || '8'
                || substr(md5(g::text || 'x'), 1, 15))::uuid,
              $1, 'Bound page ' || g, 'bound-page-' || g,
              $2 || ' ' || $3 || ' lorem ipsum dolor. '
                || repeat($2 || ' sit amet ', case when g <= $5 then 10 else g % 5 + 1 end)
                || case when g % 17 = 0 then repeat($4 || ' consectetur ', g % 3 + 1) else '' end,
              1, gen_random_uuid(), 'test', 'test'
         from generate_series(1, $6::int) g`,
      [a.companyId, common, second, sparse, OLDEST, PAGES],
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it('ranks only the 500 newest matches of a one-word query, in rank order across the pages of results', async () => {
    const hits = await allHits(common);
    const ids = hits.map((h) => h.id as string);
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
    expect(ids).toEqual(await expectedIds(common, 500));
    // Ranks never increase from one hit to the next, across pages.
    for (let i = 1; i < hits.length; i++) expect(hits[i].rank).toBeLessThanOrEqual(hits[i - 1].rank);
    // The oldest pages rank highest of all but are not among the candidates.
    const { rows } = await t.owner.query<{ id: string }>(
      `select id from wiki_pages where company_id = $1 and slug = any($2::text[])`,
      [a.companyId, Array.from({ length: OLDEST }, (_, i) => `bound-page-${i + 1}`)],
    );
    expect(rows).toHaveLength(OLDEST);
    for (const { id } of rows) expect(ids).not.toContain(id);
  });

  it('ranks every match, old ones included, when there are fewer than the bound', async () => {
    const hits = await allHits(sparse);
    expect(hits).toHaveLength(30);
    expect(hits.map((h) => h.slug)).toContain('bound-page-17');
    expect(hits.map((h) => h.id)).toEqual(await expectedIds(sparse, PAGES));
  });

  it('bounds by the size of the query: 166 for two words, 100 for a two-word phrase', async () => {
    const two = await allHits(`${common} ${second}`);
    expect(two.map((h) => h.id)).toEqual(await expectedIds(`${common} ${second}`, 166));
    const phrase = await allHits(`"${common} ${second}"`);
    expect(phrase.map((h) => h.id)).toEqual(await expectedIds(`"${common} ${second}"`, 100));
  });

  it('answers a hostile text over many matches with a page of hits (read as its first words)', async () => {
    const hostile = `"${common} -${second} or (${common} | !${second} <-> ${common}:* '${second}' & -"`
      .repeat(200)
      .slice(0, 10_000);
    const res = await search(hostile);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(res.body.nextCursor).not.toBeNull();
  });

  describe('snippets', () => {
    const create = async (title: string, body: string): Promise<Json> => {
      const res = await t
        .http()
        .post('/v1/wiki/pages')
        .auth(a.member.accessToken, { type: 'bearer' })
        .send({ title, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as Json;
    };
    const snippetOf = async (q: string, id: string): Promise<string> => {
      const res = await search(q);
      expect(res.status).toBe(200);
      const hit = (res.body.data as Json[]).find((h) => h.id === id);
      expect(hit, JSON.stringify(res.body)).toBeDefined();
      return hit!.snippet as string;
    };

    it('drops a tag cut at the start of the window around a match', async () => {
      // The word's first occurrence is in an attribute: the window starts 100 characters before it, inside the tag.
      const w = word('tapir');
      const page = await create(
        'Tag cut',
        `Intro. <span title="${'xy '.repeat(60)}${w}">the ${w} is here</span> more.`,
      );
      const snippet = await snippetOf(w, page.id as string);
      expect(snippet).toBe(`**${w}** is here more`);
    });

    it('falls back to the whole text when the window shows no match', async () => {
      // "running" is the lexeme "run": its first occurrence as the start of a word is "runway", 600 characters
      // before "Running" itself.
      const page = await create('Runs', `A runway here. ${'filler '.repeat(90)}Running is good.`);
      expect(await snippetOf('running', page.id as string)).toContain('**Running**');
    });

    it('finds a word the stemmer changed, and shows the start of the body for a title-only match', async () => {
      const page = await create('Growth', `${'filler '.repeat(100)}Our Company grew.`);
      expect(await snippetOf('companies', page.id as string)).toContain('**Company**');
      const w = word('okapi');
      const titled = await create(`About the ${w}`, 'Nothing of it here. Just text.');
      const snippet = await snippetOf(w, titled.id as string);
      expect(snippet).not.toContain('**');
      expect(snippet).toContain('Nothing of it here');
    });
  });
});
