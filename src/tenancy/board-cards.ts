import type { ScopedFunction, ScopedReader } from './scoped-reader.js';

/**
 * The listing as its response body, built by PostgreSQL in one round trip (migrations `board_cards_json`,
 * `board_cards_json_any_date`): the board and column checks, the board order and the JSON of each card, so that
 * Node neither maps nor serialises 500 cards. Through `ScopedReader`, which sets the context's company for the
 * statement; row-level security applies.
 */
const BOARD_CARDS_JSON: ScopedFunction = { name: 'tenant_board_cards_json', arity: 4 };

/** A card as a plain row with its run's status (a move's read; `tenant_board_cards`, the listing before). */
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

/** What the listing's one statement answers: the body, or which of the board or the asked column is not found. */
export type BoardCardsPage = { missing: 'Board' | 'Column'; body: null } | { missing: null; body: string };

/**
 * A board's cards (optionally of one column, one assignee, one label) as the JSON text of the route's answer,
 * `{"data":[…],"nextCursor":null}` in board order, byte for byte what `toCardRowDto` and `JSON.stringify` give for
 * the cards' rows (test/boards-list.e2e-spec.ts); or the board (not the company's) or the column (not the board's)
 * that is missing, in that order.
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
  if (!row) return { missing: 'Board', body: null };
  // The function of migration `board_cards_json` (before `board_cards_json_any_date`) answers no body for a card
  // due before 1900: the database is behind this code (migrations rolled back first). A 500, not a `null` answer.
  if (row.missing === null && typeof row.body !== 'string') {
    throw new Error('tenant_board_cards_json answered no body: apply migration board_cards_json_any_date');
  }
  return row;
}
