import type { ScopedFunction, ScopedReader } from './scoped-reader.js';

/**
 * Full-text search over the current company's wiki pages: the one hand-written statement of the wiki, kept here
 * rather than in feature code. It calls `tenant_wiki_search` (migrations `wiki`, then `wiki_search_bounded`), which,
 * like the other scoped reads, runs as the caller under the `app.company_id` that `ScopedReader` sets for its
 * statement (row-level security binds what it reads), filters on its company parameter explicitly and reads nothing
 * when that differs.
 *
 * The function parses the text with `websearch_to_tsquery('english', …)` (any text is a valid query: unknown
 * operators are read as words), matches the generated `search` vector through the GIN index that leads with
 * `company_id` (or, for words in most pages, walks the company's pages newest first), and ranks with `ts_rank_cd`
 * (title weight A over body B) the newest matches only: at most 500 / (query nodes + 2 per phrase operator), 20
 * at least, so that a word in every page costs as much as one in 500 (a query with fewer matches is ranked exactly).
 * Each hit's snippet is `ts_headline` (`StartSel=**, StopSel=**`) over the body reduced to plain text (tags, `<`,
 * `>` and `*` removed), so that the only `**` in a snippet are the match markers and no markup of the body reaches
 * it: a 400-character window at the first occurrence of a query word, or the body's first 30,000 characters when
 * that window shows no match.
 */
const SEARCH: ScopedFunction = { name: 'tenant_wiki_search', arity: 3 };

export interface WikiSearchRow {
  id: string;
  title: string;
  slug: string;
  parent_id: string | null;
  updated_at: Date;
  rank: number;
  snippet: string;
}

/** One page of hits, best first (then newest), from `offset`; `limit` rows at most. */
export function searchWikiPages(
  reader: ScopedReader,
  query: { text: string; limit: number; offset: number },
): Promise<WikiSearchRow[]> {
  return reader.rows<WikiSearchRow>(SEARCH, [query.text, query.limit, query.offset]);
}
