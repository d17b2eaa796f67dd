import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors/app-error.js';
import { DEFAULT_LIMIT, type Page } from '../common/pagination.js';
import { ScopedReader } from '../tenancy/scoped-reader.js';
import { searchWikiPages } from '../tenancy/wiki-search.js';
import type { WikiSearchHitDto, WikiSearchQueryDto } from './dto/wiki.dto.js';
import { isoInstant } from '../database/timestamps.js';

/** Deepest search offset a cursor may ask for: ranked search is for the first pages of hits. */
const MAX_SEARCH_OFFSET = 1000;

function decodeOffsetCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const match = /^o:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset >= 0 && offset <= MAX_SEARCH_OFFSET)) {
    throw Errors.field('cursor', 'is not a cursor this API issued');
  }
  return offset;
}

/** Owns the wiki's full-text search: ranked hits with plain-text snippets, paged by offset cursors. */
@Injectable()
export class WikiSearchService {
  constructor(private readonly reader: ScopedReader) {}

  /** Ranked full-text hits over the company's pages (see `searchWikiPages`). */
  async search(query: WikiSearchQueryDto): Promise<Page<WikiSearchHitDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = decodeOffsetCursor(query.cursor);
    // No text is a valid query too: it matches nothing.
    if (query.q === undefined || query.q.trim() === '') return { data: [], nextCursor: null };
    const rows = await searchWikiPages(this.reader, { text: query.q, limit: limit + 1, offset });
    const more = rows.length > limit && offset + limit <= MAX_SEARCH_OFFSET;
    const data = rows.slice(0, limit).map((r) => ({
      id: r.id,
      title: r.title,
      slug: r.slug,
      parentId: r.parent_id,
      rank: Number(r.rank),
      snippet: r.snippet.replace(/\s+/g, ' ').trim(),
      updatedAt: isoInstant(r.updated_at),
    }));
    const nextCursor = more ? Buffer.from(`o:${offset + limit}`, 'utf8').toString('base64url') : null;
    return { data, nextCursor };
  }
}
