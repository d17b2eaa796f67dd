import type { WikiPageDto, WikiPageSummaryDto, WikiRevisionSummaryDto } from './dto/wiki.dto.js';
import type { WikiPageRevision } from './wiki-page-revision.entity.js';
import type { WikiPage } from './wiki-page.entity.js';

/** A page as listed: everything but its body. */
export function toPageSummary(p: Omit<WikiPage, 'body'>): WikiPageSummaryDto {
  return {
    id: p.id,
    title: p.title,
    slug: p.slug,
    parentId: p.parentId,
    version: p.version,
    revisionId: p.revisionId,
    createdBy: p.createdBy,
    updatedBy: p.updatedBy,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export function toPageDto(p: WikiPage): WikiPageDto {
  return { ...toPageSummary(p), body: p.body };
}

export function toRevisionSummary(r: Omit<WikiPageRevision, 'body'>): WikiRevisionSummaryDto {
  return {
    id: r.id,
    pageId: r.pageId,
    version: r.version,
    title: r.title,
    slug: r.slug,
    parentId: r.parentId,
    authorId: r.authorId,
    createdAt: r.createdAt.toISOString(),
  };
}
