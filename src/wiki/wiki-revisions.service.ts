import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { WikiRevisionDto, WikiRevisionSummaryDto } from './dto/wiki.dto.js';
import { findPage } from './wiki-page-lookup.js';
import { toRevisionSummary } from './wiki-page.mapper.js';
import { WikiPageRevision } from './wiki-page-revision.entity.js';

/** Owns the reading of a page's history: every change wrote a whole revision, listed newest first. */
@Injectable()
export class WikiRevisionsService {
  constructor(private readonly em: EntityManager) {}

  async listRevisions(id: string, query: PageQueryDto): Promise<Page<WikiRevisionSummaryDto>> {
    await findPage(this.em, id);
    const page = keysetFind(query);
    const rows = await this.em.find(
      WikiPageRevision,
      { ...page.where, pageId: id },
      { ...page.options, exclude: ['body'] },
    );
    return toPage(rows, page.limit, toRevisionSummary);
  }

  async getRevision(id: string, revisionId: string): Promise<WikiRevisionDto> {
    await findPage(this.em, id);
    const revision = await this.em.findOne(WikiPageRevision, { id: revisionId, pageId: id });
    if (!revision) throw Errors.notFound('WikiPageRevision');
    return { ...toRevisionSummary(revision), body: revision.body };
  }
}
