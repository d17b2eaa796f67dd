import type { ScopedFunction, ScopedReader } from './scoped-reader.js';

/**
 * A board's cards in rank order with their run's status, in one round trip and without entities (migration
 * `board_cards_read`): the listing of a board or a column, which may hold hundreds of cards. Through
 * `ScopedReader`, which sets the context's company for the statement; row-level security applies.
 */
const BOARD_CARDS: ScopedFunction = { name: 'tenant_board_cards', arity: 4 };

/**
 * The listing as its response body, built by PostgreSQL in the same one round trip (migration `board_cards_json`):
 * the board and column checks, the board order and the JSON of each card, so that Node neither maps nor
 * serialises 500 cards. Through `ScopedReader` like `tenant_board_cards`.
 */
const BOARD_CARDS_JSON: ScopedFunction = { name: 'tenant_board_cards_json', arity: 4 };

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

/**
 * What the listing's one statement answers: the body; or which of the board or the asked column is not found; or,
 * with neither, that the JSON is to be written in Node from `boardCards` (a card due before 1900: see migration
 * `board_cards_json`).
 */
export type BoardCardsPage =
  | { missing: 'Board' | 'Column'; body: null }
  | { missing: null; body: string }
  | { missing: null; body: null };

/**
 * A board's cards (optionally of one column, one assignee, one label) as the JSON text of the route's answer,
 * `{"data":[…],"nextCursor":null}` in board order, byte for byte what `toCardRowDto` and `JSON.stringify` give for
 * `boardCards` (sorted by column rank); or the board (not the company's) or the column (not the board's, compared
 * as sent) that is missing, in that order.
 */
export async function boardCardsPage(
  reader: ScopedReader,
  q: { boardId: string; columnId?: string; assigneeId?: string; label?: string },
): Promise<BoardCardsPage> {
  const [row] = await reader.rows<BoardCardsPage>(BOARD_CARDS_JSON, [
    q.boardId,
    q.columnId ?? null,
    q.assigneeId ?? null,
    q.label ?? null,
  ]);
  // No row: the company argument was not the transaction's (never, through `ScopedReader`): nothing is found.
  return row ?? { missing: 'Board', body: null };
}
