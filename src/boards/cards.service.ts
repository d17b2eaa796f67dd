import { subject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import type { FilterQuery } from '@mikro-orm/core';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { abilityFor } from '../authz/abilities.js';
import { deniedAsNotFound, RowDenied } from '../authz/row-denial.js';
import { Errors } from '../common/errors/app-error.js';
import { CardErrors } from './boards.errors.js';
import { DlpService } from '../dlp/dlp.service.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import { MembershipsService } from '../members/memberships.service.js';
import { boardCardsPage } from '../tenancy/board-cards.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { ScopedReader } from '../tenancy/scoped-reader.js';
import { BoardColumn } from './board-column.entity.js';
import { Board } from './board.entity.js';
import { actorId } from './boards.service.js';
import { Card } from './card.entity.js';
import { toCardDto, type RunStatuses } from './card-views.js';
import { assertRoom, conditional, findRun, runStatuses } from './card-writes.js';
import {
  MAX_DESCRIPTION_BYTES,
  MAX_LABEL,
  MAX_TITLE,
  type BoardCardsQueryDto,
  type CardDto,
  type CardQueryDto,
  type CreateCardDto,
  type UpdateCardDto,
} from './dto/card.dto.js';
import { assertVersion, requiredVersions } from './if-match.js';
import { rankBetween } from './ranks.js';

function checkDescription(description: string | null | undefined): void {
  if (typeof description === 'string' && Buffer.byteLength(description, 'utf8') > MAX_DESCRIPTION_BYTES) {
    throw CardErrors.DescriptionTooLong();
  }
}

function uniqueLabels(labels: string[]): string[] {
  return [...new Set(labels)];
}

const CARD_ROUTE = '/v1/cards/:id';

/**
 * Cards: create, edit, delete, in board order (moves: `CardMovesService`). Every write of an existing card is
 * conditional on its `version` (the ORM's optimistic lock: the version is in the UPDATE's WHERE), so of two
 * concurrent writers one wins and the other gets 412 with the current version. A card created in a column locks
 * the column row first: the WIP limit count and the last rank are then read by one writer at a time.
 */
@Injectable()
export class CardsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly memberships: MembershipsService,
    private readonly dlp: DlpService,
    private readonly reader: ScopedReader,
  ) {}

  /**
   * DLP `workspace`: a card's text (title, description, labels) is scanned before it is stored. A block answers
   * 422 (its event committed on its own); redactions replace the DTO's fields (a title stays within its limit).
   */
  private async scanText<T extends { title?: string; description?: string | null; labels?: string[] }>(
    dto: T,
  ): Promise<{ dto: T; hits: Awaited<ReturnType<DlpService['guard']>>['hits'] }> {
    const text = { title: dto.title, description: dto.description, labels: dto.labels };
    const scanned = await this.dlp.guard('workspace', text, '', { type: 'Card', id: null });
    if (scanned.value === text) return { dto, hits: scanned.hits };
    const v = scanned.value;
    return {
      dto: {
        ...dto,
        ...(v.title !== undefined ? { title: v.title.slice(0, MAX_TITLE) } : {}),
        ...(v.description !== undefined ? { description: v.description } : {}),
        ...(v.labels !== undefined ? { labels: v.labels.map((l) => l.slice(0, MAX_LABEL)) } : {}),
      },
      hits: scanned.hits,
    };
  }

  /** How many cards the company has (analytics usage). */
  count(): Promise<number> {
    return this.em.count(Card, {});
  }

  /**
   * A board's cards in board order (column rank, then card rank), as the JSON text of the answer
   * (`CardListDto`): one scoped statement checks the board and the column (404s), orders the cards and writes
   * their JSON in PostgreSQL (src/tenancy/board-cards.ts), so no card is mapped or serialised here.
   */
  async listBoard(boardId: string, query: BoardCardsQueryDto): Promise<string> {
    const q = { boardId, columnId: query.columnId, assigneeId: query.assigneeId, label: query.label };
    const page = await boardCardsPage(this.reader, q);
    if (page.missing !== null) throw Errors.notFound(page.missing);
    return page.body;
  }

  /** The company's cards across boards, newest first (keyset), e.g. `?assigneeId=` for someone's cards. */
  async list(query: CardQueryDto): Promise<Page<CardDto>> {
    const page = keysetFind(query);
    const where: FilterQuery<Card> = { ...page.where };
    if (query.boardId !== undefined) where.boardId = query.boardId;
    if (query.assigneeId !== undefined) where.assigneeId = query.assigneeId;
    if (query.label !== undefined) where.labels = { $contains: [query.label] };
    const rows = await this.em.find(Card, where, page.options);
    const runs = await runStatuses(
      this.em,
      rows.map((c) => c.runId),
    );
    return toPage(rows, page.limit, (c) => toCardDto(c, runs));
  }

  async get(id: string): Promise<CardDto> {
    const card = await this.em.findOne(Card, { id });
    if (!card) throw Errors.notFound('Card');
    return toCardDto(card, await runStatuses(this.em, [card.runId]));
  }

  async create(ctx: TenantContext, boardId: string, sent: CreateCardDto): Promise<CardDto> {
    checkDescription(sent.description);
    const { dto, hits } = await this.scanText(sent);
    return this.em.transactional(async (tx) => {
      const board = await tx.findOne(Board, { id: boardId }, { fields: ['id'] });
      if (!board) throw Errors.notFound('Board');
      const column = await this.lockColumn(tx, boardId, dto.columnId);
      await assertRoom(tx, column);
      if (dto.assigneeId !== undefined) await this.assertMember(tx, dto.assigneeId);
      const runs = dto.runId !== undefined ? await findRun(tx, dto.runId) : (new Map() as RunStatuses);
      const last = await tx.findOne(
        Card,
        { columnId: column.id },
        { orderBy: { rank: 'desc', id: 'desc' }, fields: ['id', 'rank'] },
      );
      const card = new Card(
        boardId,
        column.id,
        rankBetween(last?.rank ?? null, null),
        dto.title,
        actorId(ctx),
      );
      card.description = dto.description ?? null;
      card.labels = uniqueLabels(dto.labels ?? []);
      card.dueAt = dto.dueAt !== undefined ? new Date(dto.dueAt) : null;
      card.assigneeId = dto.assigneeId ?? null;
      card.runId = dto.runId ?? null;
      tx.persist(card);
      await tx.flush();
      await this.audit.record(
        {
          action: 'card.created',
          target: { type: 'Card', id: card.id },
          metadata: { boardId, columnId: column.id },
        },
        tx,
      );
      await this.dlp.record(tx, 'workspace', { hits }, { type: 'Card', id: card.id });
      return toCardDto(card, runs);
    });
  }

  async update(
    ctx: TenantContext,
    id: string,
    ifMatch: string | undefined,
    sent: UpdateCardDto,
  ): Promise<CardDto> {
    checkDescription(sent.description);
    const { dto, hits } = await this.scanText(sent);
    return conditional(this.em, id, async (tx) => {
      const card = await tx.findOne(Card, { id });
      // A missing (or another company's) card answers 404 before any precondition is looked at.
      if (!card) throw Errors.notFound('Card');
      assertVersion(requiredVersions(ifMatch), card.version);
      const fields: string[] = [];
      const set = <K extends keyof Card>(field: K, value: Card[K]) => {
        const same =
          value instanceof Date && card[field] instanceof Date
            ? value.getTime() === card[field].getTime()
            : JSON.stringify(value) === JSON.stringify(card[field]);
        if (!same) {
          card[field] = value;
          fields.push(field);
        }
      };
      if (dto.title !== undefined) set('title', dto.title);
      if (dto.description !== undefined) set('description', dto.description);
      if (dto.labels !== undefined) set('labels', uniqueLabels(dto.labels));
      if (dto.dueAt !== undefined) set('dueAt', dto.dueAt === null ? null : new Date(dto.dueAt));
      if (dto.assigneeId !== undefined) {
        if (dto.assigneeId !== null && dto.assigneeId !== card.assigneeId) {
          await this.assertMember(tx, dto.assigneeId);
        }
        set('assigneeId', dto.assigneeId);
      }
      if (dto.runId !== undefined) {
        if (dto.runId !== null && dto.runId !== card.runId) await findRun(tx, dto.runId);
        set('runId', dto.runId);
      }
      if (fields.length > 0) {
        card.updatedBy = actorId(ctx);
        await tx.flush();
        await this.audit.record(
          {
            action: 'card.updated',
            target: { type: 'Card', id },
            metadata: { fields, version: card.version },
          },
          tx,
        );
        await this.dlp.record(tx, 'workspace', { hits }, { type: 'Card', id });
      }
      return toCardDto(card, await runStatuses(tx, [card.runId]));
    });
  }

  /** Deletes a card: its creator, or a manager and up (anyone else: 404, audited as a denial). */
  async remove(ctx: TenantContext, id: string): Promise<void> {
    await deniedAsNotFound(this.audit, `DELETE ${CARD_ROUTE}`, () =>
      this.em.transactional(async (tx) => {
        const card = await tx.findOne(Card, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!card) throw Errors.notFound('Card');
        if (!abilityFor(ctx).can('delete', subject('Card', { createdBy: card.createdBy }))) {
          throw new RowDenied('delete', 'Card', id, 'only the creator or a manager deletes a card');
        }
        tx.remove(card);
        await tx.flush();
        await this.audit.record(
          {
            action: 'card.deleted',
            target: { type: 'Card', id },
            metadata: { boardId: card.boardId, columnId: card.columnId, title: card.title },
          },
          tx,
        );
      }),
    );
  }

  /**
   * Unassigns every card of a member who leaves the company, in the caller's transaction (the membership's
   * removal), one `card.updated` event per card with `reason: 'member_removed'`. The cards are locked first,
   * so their version check cannot fail against a concurrent edit.
   */
  async unassignMember(tx: EntityManager, userId: string): Promise<number> {
    const cards = await tx.find(
      Card,
      { assigneeId: userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
    );
    if (cards.length === 0) return 0;
    for (const card of cards) card.assigneeId = null;
    await tx.flush();
    for (const card of cards) {
      await this.audit.record(
        {
          action: 'card.updated',
          target: { type: 'Card', id: card.id },
          metadata: { fields: ['assigneeId'], version: card.version, reason: 'member_removed', userId },
        },
        tx,
      );
    }
    return cards.length;
  }

  private async lockColumn(tx: EntityManager, boardId: string, columnId: string): Promise<BoardColumn> {
    const column = await tx.findOne(
      BoardColumn,
      { id: columnId, boardId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!column) throw Errors.notFound('Column');
    return column;
  }

  private async assertMember(tx: EntityManager, userId: string): Promise<void> {
    if (!(await this.memberships.findInCompany(userId, tx))) throw Errors.notFound('Member');
  }
}
