import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { BoardErrors } from './boards.errors.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { BoardColumn } from './board-column.entity.js';
import { Board } from './board.entity.js';
import { Card } from './card.entity.js';
import type {
  BoardDto,
  ColumnDto,
  CreateBoardDto,
  CreateColumnDto,
  UpdateBoardDto,
  UpdateColumnDto,
} from './dto/board.dto.js';
import { compareRanks, initialRanks, rankBetween } from './ranks.js';

export const DEFAULT_COLUMNS = ['To do', 'Doing', 'Done'];

/** Who a change is attributed to; the same identity the ability factory compares `createdBy` with. */
export function actorId(ctx: TenantContext): string {
  return ctx.userId ?? ctx.principalId;
}

export function toColumnDto(c: BoardColumn): ColumnDto {
  return {
    id: c.id,
    boardId: c.boardId,
    name: c.name,
    rank: c.rank,
    wipLimit: c.wipLimit,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function toBoardDto(b: Board, columns: BoardColumn[]): BoardDto {
  return {
    id: b.id,
    name: b.name,
    description: b.description,
    columns: [...columns].sort(compareRanks).map(toColumnDto),
    createdBy: b.createdBy,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}

/**
 * Boards and their columns (manager and up write; members read). Column order is a fractional rank per
 * column: a move writes the moved column's row only. Changes to a board's columns lock the board row, so two
 * concurrent column moves never compute their rank from the same neighbours.
 */
@Injectable()
export class BoardsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async list(query: PageQueryDto): Promise<Page<BoardDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(Board, page.where, page.options);
    const shown = rows.slice(0, page.limit);
    const columns =
      shown.length === 0 ? [] : await this.em.find(BoardColumn, { boardId: { $in: shown.map((b) => b.id) } });
    return toPage(rows, page.limit, (b) =>
      toBoardDto(
        b,
        columns.filter((c) => c.boardId === b.id),
      ),
    );
  }

  async get(id: string): Promise<BoardDto> {
    const board = await this.em.findOne(Board, { id });
    if (!board) throw Errors.notFound('Board');
    return toBoardDto(board, await this.em.find(BoardColumn, { boardId: id }));
  }

  async create(ctx: TenantContext, dto: CreateBoardDto): Promise<BoardDto> {
    const names = dto.columns ?? DEFAULT_COLUMNS;
    return this.em.transactional(async (tx) => {
      const board = new Board(dto.name, dto.description ?? null, actorId(ctx));
      tx.persist(board);
      const ranks = initialRanks(names.length);
      const columns = names.map((name, i) => new BoardColumn(board.id, name, ranks[i]));
      for (const c of columns) tx.persist(c);
      await tx.flush();
      await this.audit.record(
        {
          action: 'board.created',
          target: { type: 'Board', id: board.id },
          metadata: { columns: columns.map((c) => ({ id: c.id, name: c.name })) },
        },
        tx,
      );
      return toBoardDto(board, columns);
    });
  }

  async update(id: string, dto: UpdateBoardDto): Promise<BoardDto> {
    return this.em.transactional(async (tx) => {
      const board = await this.lockBoard(tx, id);
      const fields: string[] = [];
      if (dto.name !== undefined && dto.name !== board.name) {
        board.name = dto.name;
        fields.push('name');
      }
      if (dto.description !== undefined && dto.description !== board.description) {
        board.description = dto.description;
        fields.push('description');
      }
      if (fields.length > 0) {
        await tx.flush();
        await this.audit.record(
          { action: 'board.updated', target: { type: 'Board', id }, metadata: { fields } },
          tx,
        );
      }
      return toBoardDto(board, await tx.find(BoardColumn, { boardId: id }));
    });
  }

  /** Deletes the board with its columns and cards (ON DELETE CASCADE). */
  async remove(id: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const board = await this.lockBoard(tx, id);
      const cards = await tx.count(Card, { boardId: id });
      tx.remove(board);
      await tx.flush();
      await this.audit.record(
        { action: 'board.deleted', target: { type: 'Board', id }, metadata: { name: board.name, cards } },
        tx,
      );
    });
  }

  async addColumn(boardId: string, dto: CreateColumnDto): Promise<ColumnDto> {
    return this.em.transactional(async (tx) => {
      await this.lockBoard(tx, boardId);
      const columns = await this.columnsInOrder(tx, boardId);
      const rank = this.rankAfter(columns, dto.afterColumnId, null);
      const column = new BoardColumn(boardId, dto.name, rank, dto.wipLimit ?? null);
      tx.persist(column);
      await tx.flush();
      await this.audit.record(
        {
          action: 'column.created',
          target: { type: 'BoardColumn', id: column.id },
          metadata: { boardId, name: column.name, wipLimit: column.wipLimit },
        },
        tx,
      );
      return toColumnDto(column);
    });
  }

  async updateColumn(boardId: string, columnId: string, dto: UpdateColumnDto): Promise<ColumnDto> {
    return this.em.transactional(async (tx) => {
      await this.lockBoard(tx, boardId);
      const columns = await this.columnsInOrder(tx, boardId);
      const column = columns.find((c) => c.id === columnId);
      if (!column) throw Errors.notFound('Column');
      const fields: string[] = [];
      if (dto.name !== undefined && dto.name !== column.name) {
        column.name = dto.name;
        fields.push('name');
      }
      if (dto.wipLimit !== undefined && dto.wipLimit !== column.wipLimit) {
        column.wipLimit = dto.wipLimit;
        fields.push('wipLimit');
      }
      if (dto.afterColumnId !== undefined) {
        if (dto.afterColumnId === columnId) throw BoardErrors.ColumnAfterItself();
        const others = columns.filter((c) => c.id !== columnId);
        const index = dto.afterColumnId === null ? -1 : others.findIndex((c) => c.id === dto.afterColumnId);
        const current = columns.indexOf(column);
        const previous = current > 0 ? columns[current - 1].id : null;
        if ((dto.afterColumnId ?? null) !== previous) {
          column.rank = this.rankAfter(others, dto.afterColumnId, index);
          fields.push('rank');
        }
      }
      if (fields.length > 0) {
        await tx.flush();
        await this.audit.record(
          {
            action: 'column.updated',
            target: { type: 'BoardColumn', id: columnId },
            metadata: { boardId, fields, afterColumnId: dto.afterColumnId },
          },
          tx,
        );
      }
      return toColumnDto(column);
    });
  }

  /** Deletes an empty column (409 while it holds cards; its row lock keeps cards from arriving meanwhile). */
  async removeColumn(boardId: string, columnId: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const column = await tx.findOne(
        BoardColumn,
        { id: columnId, boardId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!column) throw Errors.notFound('Column');
      const cards = await tx.count(Card, { columnId });
      if (cards > 0) {
        throw BoardErrors.ColumnNotEmpty(cards);
      }
      tx.remove(column);
      await tx.flush();
      await this.audit.record(
        {
          action: 'column.deleted',
          target: { type: 'BoardColumn', id: columnId },
          metadata: { boardId, name: column.name },
        },
        tx,
      );
    });
  }

  private async lockBoard(tx: EntityManager, id: string): Promise<Board> {
    const board = await tx.findOne(Board, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!board) throw Errors.notFound('Board');
    return board;
  }

  private async columnsInOrder(tx: EntityManager, boardId: string): Promise<BoardColumn[]> {
    return (await tx.find(BoardColumn, { boardId })).sort(compareRanks);
  }

  /**
   * A rank after `afterColumnId` in `columns` (ordered, without the column being placed): `null` first,
   * `undefined` last; another board's or a missing column answers 404.
   */
  private rankAfter(
    columns: BoardColumn[],
    afterColumnId: string | null | undefined,
    known: number | null,
  ): string {
    if (afterColumnId === undefined) return rankBetween(columns.at(-1)?.rank ?? null, null);
    if (afterColumnId === null) return rankBetween(null, columns[0]?.rank ?? null);
    const index = known ?? columns.findIndex((c) => c.id === afterColumnId);
    if (index < 0) throw Errors.notFound('Column');
    return rankBetween(columns[index].rank, columns[index + 1]?.rank ?? null);
  }
}
