import { subject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import {
  EntityManager,
  LockMode,
  UniqueConstraintViolationException,
  type FilterQuery,
} from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { abilityFor } from '../authz/abilities.js';
import { AppError, Errors } from '../common/errors/app-error.js';
import { isUuid, newId } from '../common/ids.js';
import { DlpService } from '../dlp/dlp.service.js';
import type { Hit } from '../dlp/dlp-scan.js';
import { DEFAULT_LIMIT, keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import { lockCompany } from '../tenancy/company-lock.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { ScopedReader } from '../tenancy/scoped-reader.js';
import { searchWikiPages } from '../tenancy/wiki-search.js';
import {
  SLUG_PATTERN,
  type CreateWikiPageDto,
  type UpdateWikiPageDto,
  type WikiListQueryDto,
  type WikiPageDto,
  type WikiPageSummaryDto,
  type WikiRevisionDto,
  type WikiRevisionSummaryDto,
  type WikiSearchHitDto,
  type WikiSearchQueryDto,
} from './dto/wiki.dto.js';
import { WikiPageRevision } from './wiki-page-revision.entity.js';
import { MAX_BODY_BYTES, MAX_SLUG_LENGTH, MAX_TITLE_LENGTH, WikiPage } from './wiki-page.entity.js';
import { suffixedSlug } from '../companies/slug.js';
import { freeSlug, slugBase } from './wiki-slug.js';
import { requiredVersions } from '../common/if-match.js';
import { preconditionFailed } from './wiki.errors.js';

const SLUG_UNIQUE = 'wiki_pages_company_slug_unique';

/** Deepest search offset a cursor may ask for: ranked search is for the first pages of hits. */
const MAX_SEARCH_OFFSET = 1000;

/** Who a change is attributed to; the same identity the ability factory compares `createdBy` with. */
function actorId(ctx: TenantContext): string {
  return ctx.userId ?? ctx.principalId;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toSummary(p: Omit<WikiPage, 'body'>): WikiPageSummaryDto {
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

function toPageDto(p: WikiPage): WikiPageDto {
  return { ...toSummary(p), body: p.body };
}

function toRevisionSummary(r: Omit<WikiPageRevision, 'body'>): WikiRevisionSummaryDto {
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

/** What deleting a subtree needs of each page. */
type PageNode = Pick<WikiPage, 'id' | 'parentId' | 'slug' | 'createdBy'>;

/** A title as stored: trimmed, and not empty once trimmed. */
function cleanTitle(title: string): string {
  const trimmed = title.trim();
  if (trimmed === '') throw Errors.field('title', 'must not be empty');
  return trimmed;
}

function checkBody(body: string): void {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw Errors.field('body', `must be at most 1 MiB (${MAX_BODY_BYTES} bytes of UTF-8)`);
  }
}

function isSlugTaken(e: unknown): boolean {
  return (
    e instanceof UniqueConstraintViolationException &&
    (e as UniqueConstraintViolationException & { constraint?: string }).constraint === SLUG_UNIQUE
  );
}

function slugTaken(slug: string): AppError {
  const message = `"${slug}" is already the slug of another page of the company`;
  return new AppError(409, 'CONFLICT', `slug ${message}`, [{ field: 'slug', message }]);
}

/** Keyset of the by-title list: the last row's (title, id). */
function encodeTitleCursor(p: Pick<WikiPage, 'title' | 'id'>): string {
  return Buffer.from(JSON.stringify([p.title, p.id]), 'utf8').toString('base64url');
}

function decodeTitleCursor(cursor: string | undefined): { title: string; id: string } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      isUuid(value[1])
    ) {
      return { title: value[0], id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw Errors.field('cursor', 'is not a cursor this API issued');
}

function decodeOffsetCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const match = /^o:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset >= 0 && offset <= MAX_SEARCH_OFFSET)) {
    throw Errors.field('cursor', 'is not a cursor this API issued');
  }
  return offset;
}

/**
 * The company's wiki: pages in a tree, unique slugs, a whole revision per change, optimistic concurrency
 * (`version` / `If-Match`) and full-text search. Changes to the shape of the tree (creating under a parent,
 * moving, deleting) hold the company's `wiki-tree` lock, so two moves can never make a cycle together and no
 * page is created under one being deleted. Members read, create and edit; the creator or a manager deletes.
 */
@Injectable()
export class WikiService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly reader: ScopedReader,
    private readonly dlp: DlpService,
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

  /** Children of `parentId` (top level without it), by title. */
  async list(query: WikiListQueryDto): Promise<Page<WikiPageSummaryDto>> {
    const parentId = query.parentId ?? null;
    if (parentId !== null) await this.findPage(parentId);
    const limit = query.limit ?? 100;
    const after = decodeTitleCursor(query.cursor);
    const where: FilterQuery<WikiPage> = { parentId };
    if (after) {
      where.$or = [{ title: { $gt: after.title } }, { title: after.title, id: { $gt: after.id } }];
    }
    const rows = await this.em.find(WikiPage, where, {
      orderBy: { title: 'asc', id: 'asc' },
      limit: limit + 1,
      exclude: ['body'],
    });
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { data: page.map(toSummary), nextCursor: more ? encodeTitleCursor(page[page.length - 1]) : null };
  }

  async get(id: string): Promise<WikiPageDto> {
    return toPageDto(await this.findPage(id));
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
        if (dto.slug !== undefined) throw slugTaken(dto.slug);
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
        await this.findPage(parentId, tx);
      }
      let slug: string;
      if (dto.slug !== undefined) {
        if ((await tx.count(WikiPage, { slug: dto.slug })) > 0) throw slugTaken(dto.slug);
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
      if (!requiredVersions(ifMatch).includes(page.version)) throw preconditionFailed(page.version);

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
        if (to !== null) await this.assertNotDescendant(tx, page.id, to);
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

  /**
   * Deletes a page with its revisions (the creator or a manager). A page with children answers 409 unless
   * `cascade`, which deletes the whole subtree (each page audited); a member may cascade only over pages they
   * created themselves (403 otherwise: a manager can).
   */
  async remove(ctx: TenantContext, id: string, cascade: boolean): Promise<void> {
    let denied = false;
    try {
      await this.em.transactional(async (tx) => {
        await lockCompany(tx, 'wiki-tree');
        const page = await tx.findOne(
          WikiPage,
          { id },
          { lockMode: LockMode.PESSIMISTIC_WRITE, exclude: ['body'] },
        );
        if (!page) throw Errors.notFound('WikiPage');
        const ability = abilityFor(ctx);
        if (!ability.can('delete', subject('WikiPage', { createdBy: page.createdBy }))) {
          denied = true;
          throw Errors.notFound('WikiPage');
        }
        const descendants = await this.descendants(tx, page.id);
        if (descendants.length > 0 && !cascade) {
          throw Errors.conflict(
            `The page has ${descendants.length} descendant page(s); delete them first or pass ?cascade=true`,
          );
        }
        if (
          descendants.some((d) => !ability.can('delete', subject('WikiPage', { createdBy: d.createdBy })))
        ) {
          throw Errors.forbidden(
            'The subtree holds pages created by other people: only a manager may delete it at once',
          );
        }
        // The schema cascades from the page to its subtree and to every revision: one statement.
        tx.remove(page);
        await tx.flush();
        const gone: PageNode[] = [page, ...descendants];
        for (const p of gone) {
          await this.audit.record(
            {
              action: 'wiki_page.deleted',
              target: { type: 'WikiPage', id: p.id },
              metadata: { slug: p.slug, parentId: p.parentId, ...(p === page ? {} : { with: page.id }) },
            },
            tx,
          );
        }
      });
    } catch (error) {
      if (denied) {
        await this.audit.recordAlone({
          action: 'authorization.denied',
          target: { type: 'WikiPage', id },
          metadata: {
            permission: 'wiki:delete',
            action: 'delete',
            route: 'DELETE /v1/wiki/pages/:id',
            role: ctx.role,
            reason: 'not your page',
          },
        });
      }
      throw error;
    }
  }

  async listRevisions(id: string, query: PageQueryDto): Promise<Page<WikiRevisionSummaryDto>> {
    await this.findPage(id);
    const page = keysetFind(query);
    const rows = await this.em.find(
      WikiPageRevision,
      { ...page.where, pageId: id },
      { ...page.options, exclude: ['body'] },
    );
    return toPage(rows, page.limit, toRevisionSummary);
  }

  async getRevision(id: string, revisionId: string): Promise<WikiRevisionDto> {
    await this.findPage(id);
    const revision = await this.em.findOne(WikiPageRevision, { id: revisionId, pageId: id });
    if (!revision) throw Errors.notFound('WikiPageRevision');
    return { ...toRevisionSummary(revision), body: revision.body };
  }

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
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
    const nextCursor = more ? Buffer.from(`o:${offset + limit}`, 'utf8').toString('base64url') : null;
    return { data, nextCursor };
  }

  // -------------------------------------------------------------------------------------------

  private async findPage(id: string, em: EntityManager = this.em): Promise<WikiPage> {
    const page = await em.findOne(WikiPage, { id });
    if (!page) throw Errors.notFound('WikiPage');
    return page;
  }

  /**
   * 404 when the new parent is not a page of the company; 409 when it is the page itself or lies below it
   * (walking up from the new parent, under the tree lock, so the tree cannot change meanwhile).
   */
  private async assertNotDescendant(tx: EntityManager, pageId: string, parentId: string): Promise<void> {
    const seen = new Set<string>();
    let current: string | null = parentId;
    while (current !== null) {
      if (current === pageId) {
        throw Errors.conflict('A page cannot be moved under itself or one of its descendants');
      }
      if (seen.has(current)) break; // never expected: the tree has no cycle to walk
      seen.add(current);
      const node: Pick<WikiPage, 'parentId'> | null = await tx.findOne(
        WikiPage,
        { id: current },
        { fields: ['id', 'parentId'] },
      );
      if (!node) throw Errors.notFound('WikiPage');
      current = node.parentId;
    }
  }

  /** Every page below `pageId`, level by level. */
  private async descendants(tx: EntityManager, pageId: string): Promise<PageNode[]> {
    const out: PageNode[] = [];
    let level = [pageId];
    while (level.length > 0) {
      const rows = await tx.find(
        WikiPage,
        { parentId: { $in: level } },
        { fields: ['id', 'parentId', 'slug', 'createdBy'] },
      );
      out.push(...rows);
      level = rows.map((r) => r.id);
    }
    return out;
  }
}
