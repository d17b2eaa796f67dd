import { Migration } from '@mikro-orm/migrations';

/**
 * The company wiki: pages in a tree and their revisions (issue 15).
 *
 * Wall three by hand: both tables carry `UNIQUE (company_id, id)`, and both references between them are
 * composite, `(company_id, parent_id)` / `(company_id, page_id)` → `wiki_pages (company_id, id)`, so not even
 * raw SQL can hang a page under another company's page or give it another company's revisions.
 *
 * Search: `search` is a generated `tsvector` (title weight A, the first 100,000 characters of the body weight B:
 * a `tsvector` holds at most 1 MiB, and no text of that length can exceed it), behind a GIN index on
 * `(company_id, search)`, which needs `btree_gin` for the uuid column (a trusted extension: the database owner
 * may create it). `tenant_wiki_search` is the one hand-written read (see src/tenancy/wiki-search.ts); like the
 * run reads it runs as the caller, sets `app.company_id` for its own statement and filters on its company
 * parameter explicitly.
 *
 * Revisions are immutable for the application role (no UPDATE or DELETE grant): they go with their page (the
 * cascade of the composite key) or their company.
 */
export class Migration20261207034312_wiki extends Migration {
  override name = 'Migration20261207034312_wiki';

  override up(): void {
    this.addSql(`create extension if not exists btree_gin;`);

    this.addSql(
      `create table "wiki_pages" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "title" varchar(200) not null, "slug" varchar(100) not null, "body" text not null, "parent_id" uuid null, "version" int not null, "revision_id" uuid not null, "created_by" varchar(100) not null, "updated_by" varchar(100) not null, "updated_at" timestamptz not null default now(), "search" tsvector generated always as (setweight(to_tsvector('english'::regconfig, (title)::text), 'A'::"char") || setweight(to_tsvector('english'::regconfig, "left"(body, 100000)), 'B'::"char")) stored null, primary key ("id"));`,
    );
    this.addSql(`create index "wiki_pages_search_idx" on "wiki_pages" using gin ("company_id", "search");`);
    // Hand-written: no pending list. With fastupdate a search scans up to 4 MB of unmerged entries until a vacuum
    // merges them; pages are written rarely and searched often, so each write updates the index at once.
    this.addSql(`alter index "wiki_pages_search_idx" set (fastupdate = off);`);
    this.addSql(
      `create index "wiki_pages_company_parent_title_idx" on "wiki_pages" ("company_id", "parent_id", "title");`,
    );
    this.addSql(
      `alter table "wiki_pages" add constraint "wiki_pages_company_slug_unique" unique ("company_id", "slug");`,
    );
    this.addSql(
      `alter table "wiki_pages" add constraint "wiki_pages_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `create table "wiki_page_revisions" ("id" uuid not null, "created_at" timestamptz not null default now(), "company_id" uuid not null, "page_id" uuid not null, "version" int not null, "title" varchar(200) not null, "slug" varchar(100) not null, "body" text not null, "parent_id" uuid null, "author_id" varchar(100) not null, primary key ("id"));`,
    );
    this.addSql(
      `create index "wiki_page_revisions_company_page_id_idx" on "wiki_page_revisions" ("company_id", "page_id", "id");`,
    );
    this.addSql(
      `alter table "wiki_page_revisions" add constraint "wiki_page_revisions_company_page_version_unique" unique ("company_id", "page_id", "version");`,
    );
    this.addSql(
      `alter table "wiki_page_revisions" add constraint "wiki_page_revisions_company_id_id_unique" unique ("company_id", "id");`,
    );

    this.addSql(
      `alter table "wiki_pages" add constraint "wiki_pages_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    // Hand-written (wall three): composite, so a parent is always a page of the same company.
    this.addSql(
      `alter table "wiki_pages" add constraint "wiki_pages_parent_id_foreign" foreign key ("company_id", "parent_id") references "wiki_pages" ("company_id", "id") on update no action on delete cascade;`,
    );
    this.addSql(`alter table "wiki_pages" enable row level security;`);
    this.addSql(`alter table "wiki_pages" force row level security;`);
    this.addSql(
      `create policy "wiki_pages_tenant_isolation" on "wiki_pages" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );

    this.addSql(
      `alter table "wiki_page_revisions" add constraint "wiki_page_revisions_company_id_foreign" foreign key ("company_id") references "companies" ("id") on update cascade on delete cascade;`,
    );
    // Hand-written (wall three): composite, so a revision always belongs to a page of its own company.
    this.addSql(
      `alter table "wiki_page_revisions" add constraint "wiki_page_revisions_page_id_foreign" foreign key ("company_id", "page_id") references "wiki_pages" ("company_id", "id") on delete cascade;`,
    );
    this.addSql(`alter table "wiki_page_revisions" enable row level security;`);
    this.addSql(`alter table "wiki_page_revisions" force row level security;`);
    this.addSql(
      `create policy "wiki_page_revisions_tenant_isolation" on "wiki_page_revisions" using (company_id = nullif(current_setting('app.company_id', true), '')::uuid) with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);`,
    );
    // Immutable for the application role.
    this.addSql(`revoke update, delete on table "wiki_page_revisions" from tenantry_app;`);

    // Hand-written: the search read (see src/tenancy/wiki-search.ts). The body (its first 30,000 characters) is
    // reduced to plain text for the snippet (tags, then any '<', '>' and '*' removed), so the only '**' in a
    // snippet are the match markers.
    // Any text is a query: what websearch_to_tsquery cannot parse, or parses into more than 64 nodes, is read as
    // its first 16 plain words; a query of exclusions only finds nothing.
    this
      .addSql(`create or replace function tenant_wiki_search(p_company uuid, p_text text, p_limit int, p_offset int)
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
    end $fn$;`);
    this.addSql(`revoke all on function tenant_wiki_search(uuid, text, int, int) from public;`);
    this.addSql(`grant execute on function tenant_wiki_search(uuid, text, int, int) to tenantry_app;`);
  }

  override down(): void {
    this.addSql(`drop function if exists tenant_wiki_search(uuid, text, int, int);`);
    this.addSql(`drop table if exists "wiki_page_revisions";`);
    this.addSql(`drop table if exists "wiki_pages";`);
  }
}
