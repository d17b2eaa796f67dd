import { Migration } from '@mikro-orm/migrations';

/**
 * Wiki search with a bounded cost for common terms (issue 15; docs/benchmarks.md, "Wiki search").
 *
 * Ranking reads the vector of every match ("Ranking can be expensive since it requires consulting the tsvector of
 * each matching document", PostgreSQL 15 manual, 12.3.3): a word in all 10,000 pages of a company ranked 10,000
 * vectors, a two-word phrase as many, a hostile 10,000-character text (read as its first 16 words) as many with 16
 * terms each.
 *
 * - Only the newest matches are ranked: at most 500 / (query nodes + 2 per phrase operator), 20 at least (500 for
 *   one word, 166 for two words, 100 for a two-word phrase). They are found through `(company_id, id)` newest
 *   first when the words are common (stopping at the bound) or through the GIN index when they are rare, as the
 *   planner finds cheaper for the query at hand (`plan_cache_mode = force_custom_plan` on the function: a generic
 *   plan cannot tell). A query with no more matches than its bound is ranked exactly as before; with more, each
 *   page of results is in rank order among those candidates, and the cursors end with them.
 * - The vector stays in the row (`storage main`: moved out only if the row would not fit a page otherwise) rather
 *   than in the TOAST table, where a 2 KB page's ~3.8 KB vector went: matching or ranking a row there read four
 *   buffers and copied the vector, and a re-checked match did it twice. For rows written from now on; `VACUUM FULL
 *   wiki_pages` (or pg_repack) moves the older ones.
 * - Snippets: `ts_headline` parses all the text it is given (~0.5 ms for 2 KB, 20 per page of results); it now
 *   gets a 400-character window at the first occurrence of a query word, and the first 30,000 characters as before
 *   only when that window shows no match.
 * - The fallback for an unparsable text splits it once, instead of collecting every regular-expression match of up
 *   to 10,000 characters (~10 ms) to keep 16.
 *
 * SQL copied in, not imported: migrations are frozen text.
 */
export class Migration20261207160000_wiki_search_bounded extends Migration {
  override name = 'Migration20261207160000_wiki_search_bounded';

  override up(): void {
    this.addSql(`alter table "wiki_pages" alter column "search" set storage main;`);
    this.addSql(
      `create or replace function tenant_wiki_search(p_company uuid, p_text text, p_limit int, p_offset int)
    returns table (id uuid, title text, slug text, parent_id uuid, updated_at timestamptz, rank real, snippet text)
    language plpgsql security invoker
    -- Planned for each call with its query: a word in every page and a word in a few want different plans (the
    -- newest pages through (company_id, id) until enough match, or the GIN index then a sort), and a generic plan
    -- cannot tell them apart.
    set plan_cache_mode = force_custom_plan
    as $fn$
    #variable_conflict use_column
    declare
      q tsquery;
      hq tsquery;
      words text[];
      prefixes text[];
      bound int;
    begin
      -- The company comes from the transaction's setting (ScopedReader sets it); a different argument reads nothing.
      if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
        return;
      end if;
      begin
        q := websearch_to_tsquery('english'::regconfig, p_text);
      exception when others then
        -- The web-search parser fails on some hostile texts (more than 32 operators in a row: "tsquery stack
        -- too small", XX000). Such a text is read as plain words below.
        q := null;
      end;
      if q is null or numnode(q) > 64 then
        -- Unparsable, or too complex to evaluate cheaply: the first 16 words of the text (of at most 100
        -- characters each), all required, no operators. Split once (regexp_matches would collect every match of
        -- a 10,000-character text before the first 16 are taken).
        q := plainto_tsquery('english'::regconfig, coalesce(
          (select string_agg(distinct left(w, 100), ' ') from (
             select w from unnest((regexp_split_to_array(left(p_text, 10000), '\\W+'))[1:17]) w
              where w <> '' limit 16) x), ''));
      end if;
      -- Nothing to look for (only stop words or operators), or only exclusions (the index cannot serve them,
      -- and "everything but x" is no search): no hits.
      if numnode(q) = 0 or querytree(q) = 'T' then
        return;
      end if;
      -- The query's lexemes. Snippets highlight any of them (an OR: ts_headline looks for a cover of the whole
      -- query otherwise, which takes seconds on a long body with many terms), and a snippet's window starts at the
      -- first of them in the body: as a word, else as the start of a word without a final "e" or "i" (stemming
      -- makes "company" "compani" and "hoping" "hope"), else anywhere.
      select coalesce(string_agg(distinct m[1], ' | '), '')::tsquery, array_agg(distinct l),
             array_agg(distinct case when length(l) > 3 and right(l, 1) in ('e', 'i') then left(l, -1) else l end)
        into hq, words, prefixes
        from regexp_matches(q::text, '(''(?:[^'']|'''')*'')', 'g') m,
             replace(substr(m[1], 2, length(m[1]) - 2), '''''', '''') l;
      -- Ranking reads the vector of each candidate and costs more the more terms and phrase operators the query
      -- has: at most 500 / (nodes + 2 per phrase operator) candidates, 20 at least (500 for one word, 166 for two
      -- words, 100 for a two-word phrase, 45 for six words).
      bound := greatest(20, 500 / (numnode(q) + 2 * (length(q::text) - length(replace(q::text, '<', '')))));
      return query
        select h.id, p.title::text, p.slug::text, p.parent_id, p.updated_at, h.hit_rank,
          case when n.hl like '%**%' then n.hl
               else ts_headline('english'::regconfig,
                 regexp_replace(regexp_replace(t.b, '<[^>]*>', ' ', 'g'), '[<>*]', ' ', 'g'), hq,
                 'StartSel=**, StopSel=**, HighlightAll=false, MinWords=10, MaxWords=30, MaxFragments=2, FragmentDelimiter=" … "')
          end
          from (
            -- The candidates: the newest matches (ids are UUID v7), at most "bound" of them, found without ranking
            -- them; then ranked. The ctid carries each row to the next step inside this one statement (one
            -- snapshot), so that no sort carries vectors.
            select r.ctid, r.id, r.hit_rank
              from (
                select p.ctid
                  from wiki_pages p
                 where p.company_id = p_company and p.search @@ q
                 order by p.id desc
                 limit bound
              ) c
              cross join lateral (
                select p.ctid, p.id, ts_rank_cd(p.search, q) as hit_rank
                  from wiki_pages p
                 where p.ctid = c.ctid and p.company_id = p_company
              ) r
             order by r.hit_rank desc, r.id desc
             limit greatest(p_limit, 0) offset greatest(p_offset, 0)
          ) h
          join wiki_pages p on p.ctid = h.ctid and p.company_id = p_company
          -- Snippets: ts_headline parses all the text it is given (~0.5 ms for 2 KB), so it first gets a window of
          -- 400 characters from 100 before the first query word found, a tag or word cut at its edges dropped, then
          -- (as before) tags and any '<', '>' and '*' removed; when that window shows no match (a word found inside
          -- another, a stem unlike its word, a match in the title only), the first 30,000 characters as before.
          -- (Each step is its own subquery, "offset 0", so that no expression is computed twice.)
          cross join lateral (select left(p.body, 30000) as b offset 0) t
          cross join lateral (
            select ' ' || replace(replace(replace(replace(replace(lower(t.b), E'\\n', ' '), ',', ' '), '.', ' '), '(', ' '),
                     ')', ' ') || ' ' as w
            offset 0) l
          cross join lateral (
            select coalesce((select min(nullif(strpos(l.w, ' ' || x || ' '), 0)) from unnest(words) x),
                            (select min(nullif(strpos(l.w, ' ' || x), 0)) from unnest(prefixes) x),
                            (select min(nullif(strpos(l.w, x), 0)) from unnest(prefixes) x)) as found
            offset 0) a
          cross join lateral (
            select case when a.found is not null then ts_headline('english'::regconfig,
                     regexp_replace(regexp_replace(
                       case when w.start > 1 then regexp_replace(w.part, '^[^<]*>|^\\S*\\s', '') else w.part end
                         || case when w.start + 400 <= length(t.b) then '' else ' ' end,
                       '<[^>]*>|<[^>]*$|\\s\\S*$', ' ', 'g'), '[<>*]', ' ', 'g'),
                     hq,
                     'StartSel=**, StopSel=**, HighlightAll=false, MinWords=10, MaxWords=30, MaxFragments=2, FragmentDelimiter=" … "')
                   end as hl
              from (select greatest(1, a.found - 100) as start, substr(t.b, greatest(1, a.found - 100), 400) as part) w
            offset 0) n
         order by h.hit_rank desc, h.id desc;
    end $fn$;`,
    );
    this.addSql(`revoke all on function tenant_wiki_search(uuid, text, int, int) from public;`);
    this.addSql(`grant execute on function tenant_wiki_search(uuid, text, int, int) to tenantry_app;`);
  }

  override down(): void {
    this.addSql(`alter table "wiki_pages" alter column "search" set storage extended;`);
    // Migration `wiki`'s function as it was (dropped first: a replacement would keep the SET clause).
    this.addSql(`drop function if exists tenant_wiki_search(uuid, text, int, int);`);
    this.addSql(
      `create or replace function tenant_wiki_search(p_company uuid, p_text text, p_limit int, p_offset int)
    returns table (id uuid, title text, slug text, parent_id uuid, updated_at timestamptz, rank real, snippet text)
    language plpgsql security invoker as $fn$
    #variable_conflict use_column
    declare
      q tsquery;
      hq tsquery;
    begin
      -- The company comes from the transaction's setting (ScopedReader sets it); a different argument reads nothing.
      if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
        return;
      end if;
      begin
        q := websearch_to_tsquery('english'::regconfig, p_text);
      exception when others then
        -- The web-search parser fails on some hostile texts (more than 32 operators in a row: "tsquery stack
        -- too small", XX000). Such a text is read as plain words below.
        q := null;
      end;
      if q is null or numnode(q) > 64 then
        -- Unparsable, or too complex to evaluate cheaply (a phrase of thousands of words, e.g. "x-x-x-…", costs
        -- seconds per page): the first 16 words of the text, all required, no operators.
        q := plainto_tsquery('english'::regconfig, coalesce(
          (select string_agg(distinct w.m[1], ' ') from (
             select regexp_matches(left(p_text, 10000), '(\\w{1,100})', 'g') as m limit 16) w), ''));
      end if;
      -- Nothing to look for (only stop words or operators), or only exclusions (the index cannot serve them,
      -- and "everything but x" is no search): no hits.
      if numnode(q) = 0 or querytree(q) = 'T' then
        return;
      end if;
      -- Snippets highlight any of the query's lexemes (an OR of them): ts_headline looks for a cover of the whole
      -- query otherwise, which takes seconds on a long body with many terms. It reads the first 30,000 characters.
      hq := coalesce((select string_agg(distinct m[1], ' | ')
                        from regexp_matches(q::text, '(''(?:[^'']|'''')*'')', 'g') m), '')::tsquery;
      return query
        select h.id, h.title::text, h.slug::text, h.parent_id, h.updated_at, h.hit_rank,
          ts_headline('english'::regconfig,
            regexp_replace(regexp_replace(left(h.body, 30000), '<[^>]*>', ' ', 'g'), '[<>*]', ' ', 'g'),
            hq,
            'StartSel=**, StopSel=**, HighlightAll=false, MinWords=10, MaxWords=30, MaxFragments=2, FragmentDelimiter=" … "')
          from (
            select p.id, p.title, p.slug, p.parent_id, p.updated_at, p.body, ts_rank_cd(p.search, q) as hit_rank
              from wiki_pages p
             where p.company_id = p_company and p.search @@ q
             order by hit_rank desc, p.id desc
             limit greatest(p_limit, 0) offset greatest(p_offset, 0)
          ) h
         order by h.hit_rank desc, h.id desc;
    end $fn$;`,
    );
    this.addSql(`revoke all on function tenant_wiki_search(uuid, text, int, int) from public;`);
    this.addSql(`grant execute on function tenant_wiki_search(uuid, text, int, int) to tenantry_app;`);
  }
}
