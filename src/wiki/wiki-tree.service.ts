import { subject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode, type FilterQuery } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { abilityFor } from '../authz/abilities.js';
import { Errors } from '../common/errors/app-error.js';
import { WikiErrors } from './wiki.errors.js';
import { isUuid } from '../common/ids.js';
import type { Page } from '../common/pagination.js';
import { lockCompany } from '../tenancy/company-lock.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { WikiListQueryDto, WikiPageSummaryDto } from './dto/wiki.dto.js';
import { findPage } from './wiki-page-lookup.js';
import { toPageSummary } from './wiki-page.mapper.js';
import { WikiPage } from './wiki-page.entity.js';

/** What deleting a subtree needs of each page. */
type PageNode = Pick<WikiPage, 'id' | 'parentId' | 'slug' | 'createdBy'>;

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

/**
 * Owns the shape of the company's wiki tree: a page's children by title, the check that keeps a move from
 * making a cycle, and deleting a page with its subtree. Changes to the shape hold the company's `wiki-tree`
 * lock, so two moves can never make a cycle together and no page is created under one being deleted.
 */
@Injectable()
export class WikiTreeService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  /** Children of `parentId` (top level without it), by title. */
  async list(query: WikiListQueryDto): Promise<Page<WikiPageSummaryDto>> {
    const parentId = query.parentId ?? null;
    if (parentId !== null) await findPage(this.em, parentId);
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
    return {
      data: page.map(toPageSummary),
      nextCursor: more ? encodeTitleCursor(page[page.length - 1]) : null,
    };
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
          throw WikiErrors.HasDescendants(descendants.length);
        }
        if (
          descendants.some((d) => !ability.can('delete', subject('WikiPage', { createdBy: d.createdBy })))
        ) {
          throw WikiErrors.SubtreeNotOwned();
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

  /**
   * 404 when the new parent is not a page of the company; 409 when it is the page itself or lies below it
   * (walking up from the new parent, under the tree lock, so the tree cannot change meanwhile).
   */
  async assertNotDescendant(tx: EntityManager, pageId: string, parentId: string): Promise<void> {
    const seen = new Set<string>();
    let current: string | null = parentId;
    while (current !== null) {
      if (current === pageId) {
        throw WikiErrors.MoveUnderItself();
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
