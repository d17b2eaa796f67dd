import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import { escapeLike } from '../common/like.js';
import { DlpService } from '../dlp/dlp.service.js';
import type { Hit } from '../dlp/dlp-scan.js';
import { lockCompany } from '../tenancy/company-lock.js';
import type { TenantContext } from '../tenancy/request-store.js';
import {
  SLUG_PATTERN,
  type CreateWikiPageDto,
  type UpdateWikiPageDto,
  type WikiPageDto,
} from './dto/wiki.dto.js';
import { findPage } from './wiki-page-lookup.js';
import { toPageDto } from './wiki-page.mapper.js';
import { WikiPageRevision } from './wiki-page-revision.entity.js';
import { MAX_BODY_BYTES, MAX_SLUG_LENGTH, MAX_TITLE_LENGTH, WikiPage } from './wiki-page.entity.js';
import { suffixedSlug } from '../companies/slug.js';
import { freeSlug, slugBase } from './wiki-slug.js';
import { requiredVersions } from '../common/if-match.js';
import { WikiErrors } from './wiki.errors.js';
import { WikiTreeService } from './wiki-tree.service.js';

const SLUG_UNIQUE = 'wiki_pages_company_slug_unique';

/** Who a change is attributed to; the same identity the ability factory compares `createdBy` with. */
function actorId(ctx: TenantContext): string {
  return ctx.userId ?? ctx.principalId;
}

/** A title as stored: trimmed, and not empty once trimmed. */
function cleanTitle(title: string): string {
  const trimmed = title.trim();
  if (trimmed === '') throw WikiErrors.EmptyTitle();
  return trimmed;
}

function checkBody(body: string): void {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw WikiErrors.BodyTooLarge();
  }
}

function isSlugTaken(e: unknown): boolean {
  return (
    e instanceof UniqueConstraintViolationException &&
    (e as UniqueConstraintViolationException & { constraint?: string }).constraint === SLUG_UNIQUE
  );
}

/**
 * The company's wiki pages: reading them, creating them with unique slugs, and changing them with a whole
 * revision per change under optimistic concurrency (`version` / `If-Match`); title and body pass DLP first. The
 * tree (children, moves' cycle check, deleting a subtree) is {@link WikiTreeService}'s, the history
 * {@link WikiRevisionsService}'s, search {@link WikiSearchService}'s. Members read, create and edit.
 */
@Injectable()
export class WikiService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly dlp: DlpService,
    private readonly tree: WikiTreeService,
  ) {}

  /**
   * DLP `workspace`: a page's title and body are scanned before they are stored. A block answers 422 (its event
   * committed on its own); redactions replace the fields (a title stays within its limit).
   */
  private async scanText<T extends { title?: string; body?: string }>(
    dto: T,
    pageId: string | null,
  ): Promise<{ dto: T; hits: Hit[] }> {
    const text = { title: dto.title, body: dto.body };
    const scanned = await this.dlp.guard('workspace', text, '', { type: 'WikiPage', id: pageId });
    if (scanned.value === text) return { dto, hits: scanned.hits };
    const v = scanned.value;
    return {
      dto: {
        ...dto,
        ...(v.title !== undefined ? { title: v.title.slice(0, MAX_TITLE_LENGTH) } : {}),
        ...(v.body !== undefined ? { body: v.body } : {}),
      },
      hits: scanned.hits,
    };
  }

  /** How many pages the company has (analytics usage). */
  count(): Promise<number> {
    return this.em.count(WikiPage, {});
  }

  async get(id: string): Promise<WikiPageDto> {
    return toPageDto(await findPage(this.em, id));
  }

  async getBySlug(slug: string): Promise<WikiPageDto> {
    // No page can have a slug outside the rules: such a path reads as a missing page.
    if (slug.length > MAX_SLUG_LENGTH || !SLUG_PATTERN.test(slug)) throw Errors.notFound('WikiPage');
    const page = await this.em.findOne(WikiPage, { slug });
    if (!page) throw Errors.notFound('WikiPage');
    return toPageDto(page);
  }

  /**
   * Creates a page and its first revision. A derived slug that another request took meanwhile (the unique key
   * refuses it) is retried with a random suffix; an explicit one answers 409.
   */
  async create(ctx: TenantContext, sent: CreateWikiPageDto): Promise<WikiPageDto> {
    cleanTitle(sent.title);
    checkBody(sent.body);
    const { dto, hits } = await this.scanText(sent, null);
    const title = cleanTitle(dto.title);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.insert(ctx, dto, title, attempt > 0, hits);
      } catch (e) {
        if (!isSlugTaken(e)) throw e;
        if (dto.slug !== undefined) throw WikiErrors.SlugTaken(dto.slug);
        if (attempt >= 2) throw e;
      }
    }
  }

  private async insert(
    ctx: TenantContext,
    dto: CreateWikiPageDto,
    title: string,
    randomSuffix: boolean,
    hits: Hit[],
  ): Promise<WikiPageDto> {
    const parentId = dto.parentId ?? null;
    return this.em.transactional(async (tx) => {
      if (parentId !== null) {
        await lockCompany(tx, 'wiki-tree');
        await findPage(tx, parentId);
      }
      let slug: string;
      if (dto.slug !== undefined) {
        if ((await tx.count(WikiPage, { slug: dto.slug })) > 0) throw WikiErrors.SlugTaken(dto.slug);
        slug = dto.slug;
      } else if (randomSuffix) {
        slug = suffixedSlug(slugBase(title));
      } else {
        const base = slugBase(title);
        const rows = await tx.find(
          WikiPage,
          { slug: { $like: `${escapeLike(base)}%` } },
          { fields: ['slug'] },
        );
        slug = freeSlug(base, new Set(rows.map((p) => p.slug)));
      }
      const by = actorId(ctx);
      const page = new WikiPage({ title, slug, body: dto.body, parentId }, by);
      tx.persist(page);
      tx.persist(new WikiPageRevision(page, by));
      await tx.flush();
      await this.audit.record(
        {
          action: 'wiki_page.created',
          target: { type: 'WikiPage', id: page.id },
          metadata: { slug, parentId, version: page.version },
        },
        tx,
      );
      await this.dlp.record(tx, 'workspace', { hits }, { type: 'WikiPage', id: page.id });
      return toPageDto(page);
    });
  }

  /**
   * Applies any subset of title, body and parent, if `If-Match` names the current version (428 without it,
   * 412 with the current version when stale). The row is locked for the transaction, so of two changes based
   * on the same version exactly one applies. A change of parent is a move: refused (409) when the new parent
   * is the page itself or one of its descendants.
   */
  async update(
    ctx: TenantContext,
    id: string,
    sent: UpdateWikiPageDto,
    ifMatch: string | undefined,
  ): Promise<WikiPageDto> {
    if (sent.title !== undefined) cleanTitle(sent.title);
    if (sent.body !== undefined) checkBody(sent.body);
    const { dto, hits } = await this.scanText(sent, null);
    const title = dto.title === undefined ? undefined : cleanTitle(dto.title);
    const moving = dto.parentId !== undefined;
    return this.em.transactional(async (tx) => {
      // The tree lock before the row lock, always in this order (see lockCompany).
      if (moving) await lockCompany(tx, 'wiki-tree');
      const page = await tx.findOne(WikiPage, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      // A missing (or another company's) page answers 404 first, with or without the header.
      if (!page) throw Errors.notFound('WikiPage');
      // 428 when absent or `*`, as for cards (src/common/if-match.ts); 412 unless it names the current version.
      if (!requiredVersions(ifMatch).includes(page.version)) throw WikiErrors.Stale(page.version);

      const fields: string[] = [];
      if (title !== undefined && title !== page.title) {
        page.title = title;
        fields.push('title');
      }
      if (dto.body !== undefined && dto.body !== page.body) {
        page.body = dto.body;
        fields.push('body');
      }
      const from = page.parentId;
      const to = dto.parentId === undefined ? from : dto.parentId;
      if (to !== from) {
        if (to !== null) await this.tree.assertNotDescendant(tx, page.id, to);
        page.parentId = to;
      }
      if (fields.length === 0 && to === from) return toPageDto(page);

      const by = actorId(ctx);
      page.version += 1;
      page.revisionId = newId();
      page.updatedBy = by;
      page.updatedAt = new Date();
      tx.persist(new WikiPageRevision(page, by));
      await tx.flush();
      const target = { type: 'WikiPage', id: page.id };
      if (fields.length > 0) {
        await this.audit.record(
          { action: 'wiki_page.updated', target, metadata: { fields, version: page.version } },
          tx,
        );
        await this.dlp.record(tx, 'workspace', { hits }, target);
      }
      if (to !== from) {
        await this.audit.record(
          { action: 'wiki_page.moved', target, metadata: { from, to, version: page.version } },
          tx,
        );
      }
      return toPageDto(page);
    });
  }
}
