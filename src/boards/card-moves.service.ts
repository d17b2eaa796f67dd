import { Injectable } from '@nestjs/common';
import { OptimisticLockError } from '@mikro-orm/core';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { CardErrors } from './boards.errors.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { scoped } from '../tenancy/scoped-sql.js';
import { CARD_STATEMENTS } from '../tenancy/statements/cards.js';
import { BoardColumn } from './board-column.entity.js';
import { actorId } from './boards.service.js';
import { Card } from './card.entity.js';
import { toCardRowDto, type CardRow } from './card-views.js';
import { assertRoom, conditional, runStatuses } from './card-writes.js';
import type { CardDto, MoveCardDto } from './dto/card.dto.js';
import { assertVersion, requiredVersions } from './if-match.js';
import { compareRanks, rankBetween } from './ranks.js';

/** What a move reads in its one select (`CardMovesService.read`): the card, and scalars from around it. */
interface MoveRead {
  card: CardRow;
  /** The target column's board: null when the company has no such column. */
  columnBoardId: string | null;
  columnWipLimit: number | null;
  /** The ranks of the named neighbours: null when the card is not one of the target column. */
  afterRank?: string | null;
  beforeRank?: string | null;
  /** Without named neighbours: the rank of the column's first card other than the moved one. */
  firstRank?: string | null;
}

type Scalars = Omit<MoveRead, 'card'>;

/**
 * Moving a card: the hot write of a board (issue 15), so it reads and writes no more than it must, all in the
 * company (every statement filters on it, and row-level security by the transaction's company setting). A move to
 * the top of a column, or between two named cards, is six statements (`begin`, the company setting, one select,
 * one update, the audit append, `commit`); the select, the update and the append are prepared statements
 * (src/tenancy/statements/cards.ts), planned once per connection:
 *
 * - one select reads the card as a plain row (no entity, no joins to its references: the composite foreign keys
 *   keep those in the company) with the target column's board and WIP limit and the neighbours' ranks; a missing
 *   card answers 404, then the version is checked against `If-Match` (428 / 412);
 * - a card entering another column needs it to be a column of its board (404); when the column has a WIP limit,
 *   it is locked and its cards counted (409 when full), so concurrent entries are counted one at a time;
 * - with one named neighbour, one more select finds the card next to it;
 * - the write is one versioned `UPDATE … WHERE id = … AND version = …` (no unit of work): no row back means a
 *   concurrent writer won, which answers 412 as the ORM's optimistic lock does;
 * - the `card.moved` event is appended in the same transaction.
 */
@Injectable()
export class CardMovesService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  /**
   * Moves a card to a column of its board, between `afterCardId` and `beforeCardId` (cards of that column;
   * neither: the top). Writes the card's row only: its column and a rank between its new neighbours.
   */
  async move(
    ctx: TenantContext,
    id: string,
    ifMatch: string | undefined,
    dto: MoveCardDto,
  ): Promise<CardDto> {
    // Every id arrives in lower case (`IdParam`, `IsId`): compared here as PostgreSQL compares them.
    if (dto.afterCardId === id || dto.beforeCardId === id) {
      throw CardErrors.NextToItself(dto.afterCardId === id ? 'afterCardId' : 'beforeCardId');
    }
    return conditional(this.em, id, async (tx) => {
      const read = await this.read(tx, id, dto);
      // A missing (or another company's) card answers 404 before any precondition is looked at.
      if (!read) throw Errors.notFound('Card');
      const { card } = read;
      assertVersion(requiredVersions(ifMatch), card.version);
      if (dto.columnId !== card.columnId) {
        if (read.columnBoardId !== card.boardId) throw Errors.notFound('Column');
        if (read.columnWipLimit !== null) await this.enterLimited(tx, card.boardId, dto.columnId);
      }
      const moved: CardRow = {
        ...card,
        columnId: dto.columnId,
        rank: await this.rankIn(tx, id, dto, read),
        updatedBy: actorId(ctx),
        updatedAt: new Date(),
        version: card.version + 1,
      };
      const written = await scoped(tx, CARD_STATEMENTS.moveWrite, [
        id,
        card.version,
        moved.columnId,
        moved.rank,
        moved.updatedBy,
        moved.updatedAt,
      ]);
      if (written.length !== 1) throw OptimisticLockError.lockFailed(Card.name);
      await this.audit.record(
        {
          action: 'card.moved',
          target: { type: 'Card', id },
          metadata: { fromColumnId: card.columnId, toColumnId: moved.columnId, version: moved.version },
        },
        tx,
      );
      const runs = await runStatuses(tx, [card.runId]);
      return toCardRowDto({ ...moved, runStatus: card.runId ? (runs.get(card.runId) ?? null) : null });
    });
  }

  /** The move's one select (`CARD_STATEMENTS.moveRead`): the card as a plain row and scalars from around it. */
  private async read(tx: EntityManager, id: string, dto: MoveCardDto): Promise<MoveRead | null> {
    const [row] = await scoped<CardRow & Scalars>(tx, CARD_STATEMENTS.moveRead, [
      id,
      dto.columnId,
      dto.afterCardId ?? null,
      dto.beforeCardId ?? null,
    ]);
    if (!row) return null;
    const { columnBoardId, columnWipLimit, afterRank, beforeRank, firstRank, ...card } = row;
    return { card, columnBoardId, columnWipLimit, afterRank, beforeRank, firstRank };
  }

  /**
   * The card enters `columnId`, a column of its board with a WIP limit: the column is locked and read again
   * (its limit may have changed) before its cards are counted, so concurrent entries are counted one at a time.
   */
  private async enterLimited(tx: EntityManager, boardId: string, columnId: string): Promise<void> {
    const column = await tx.findOne(
      BoardColumn,
      { id: columnId, boardId },
      { fields: ['id', 'name', 'wipLimit'], disableIdentityMap: true, lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!column) throw Errors.notFound('Column');
    await assertRoom(tx, column);
  }

  /**
   * The new rank between the named neighbours (cards of the target column; neither: the top): 404 when a named
   * card is not in the column, 400 when the two are in the wrong order. With one named neighbour, one query
   * finds the card on its other side.
   */
  private async rankIn(tx: EntityManager, id: string, dto: MoveCardDto, read: MoveRead): Promise<string> {
    const named = (rank: string | null | undefined): string => {
      if (!rank) throw Errors.notFound('Card');
      return rank;
    };
    const after = dto.afterCardId === undefined ? null : { id: dto.afterCardId, rank: named(read.afterRank) };
    const before =
      dto.beforeCardId === undefined ? null : { id: dto.beforeCardId, rank: named(read.beforeRank) };
    const nearest = async (rank: { $gt: string } | { $lt: string }, order: 'asc' | 'desc') => {
      const [card] = await tx.find(
        Card,
        { columnId: dto.columnId, id: { $ne: id }, rank },
        { fields: ['rank'], orderBy: { rank: order, id: order }, limit: 1, disableIdentityMap: true },
      );
      return card?.rank ?? null;
    };
    if (after && before) {
      if (compareRanks(after, before) >= 0) {
        throw CardErrors.NeighboursOutOfOrder();
      }
      return rankBetween(after.rank, before.rank);
    }
    if (after) return rankBetween(after.rank, await nearest({ $gt: after.rank }, 'asc'));
    if (before) return rankBetween(await nearest({ $lt: before.rank }, 'desc'), before.rank);
    return rankBetween(null, read.firstRank ?? null);
  }
}
