import type { ScopedFunction, ScopedReader } from './scoped-reader.js';

/**
 * A board's cards in rank order with their run's status, in one round trip and without entities (migration
 * `board_cards_read`): the listing of a board or a column, which may hold hundreds of cards. Through
 * `ScopedReader`, which sets the context's company for the statement; row-level security applies.
 */
const BOARD_CARDS: ScopedFunction = { name: 'tenant_board_cards', arity: 4 };

export interface BoardCardRow {
  id: string;
  boardId: string;
  columnId: string;
  rank: string;
  title: string;
  description: string | null;
  labels: string[];
  dueAt: Date | null;
  assigneeId: string | null;
  runId: string | null;
  runStatus: string | null;
  version: number;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export function boardCards(
  reader: ScopedReader,
  q: { boardId: string; columnId?: string; assigneeId?: string; label?: string },
): Promise<BoardCardRow[]> {
  return reader.rows<BoardCardRow>(BOARD_CARDS, [
    q.boardId,
    q.columnId ?? null,
    q.assigneeId ?? null,
    q.label ?? null,
  ]);
}
