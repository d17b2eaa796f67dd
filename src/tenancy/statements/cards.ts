/**
 * A card move's two hand-written statements (reviewed here, run through `scoped(...)` by `CardMovesService`):
 * the move is the hot write of a board (issue 15), and as prepared statements its read and its write are planned
 * once per connection instead of built by the query builder and planned on every move. Every reference to a tenant
 * table is filtered on the company (`$1`, the context's); row-level security applies as well.
 */
import { companyStatement } from '../scoped-sql.js';

/** The columns of a card as `CardRow` names them. */
const CARD = `"c"."id", "c"."board_id" as "boardId", "c"."column_id" as "columnId", "c"."rank", "c"."title",
  "c"."description", "c"."labels", "c"."due_at" as "dueAt", "c"."assignee_id" as "assigneeId", "c"."run_id" as "runId",
  "c"."version", "c"."created_by" as "createdBy", "c"."updated_by" as "updatedBy", "c"."created_at" as "createdAt",
  "c"."updated_at" as "updatedAt"`;

/** The rank of card `id` when it is a card of the target column ($3), else null. */
const rankOf = (id: string, alias: string) =>
  `(select "${alias}"."rank" from "cards" as "${alias}"
     where "${alias}"."company_id" = $1 and "${alias}"."id" = ${id} and "${alias}"."column_id" = $3)`;

export const CARD_STATEMENTS = {
  /**
   * The card (no row: the company has no such card) with what its move needs from around it: the target column's
   * board and WIP limit (null: no such column in the company), the ranks of the named neighbours (null: not a card
   * of the target column) and, with no neighbour named, the rank of the column's first card other than this one.
   * Args: cardId, columnId, afterCardId (or null), beforeCardId (or null).
   */
  moveRead: companyStatement(
    'cards.move_read',
    `select ${CARD}, "t"."board_id" as "columnBoardId", "t"."wip_limit" as "columnWipLimit",
       ${rankOf('$4::uuid', 'a')} as "afterRank",
       ${rankOf('$5::uuid', 'b')} as "beforeRank",
       case when $4::uuid is null and $5::uuid is null then
         (select "f"."rank" from "cards" as "f"
           where "f"."company_id" = $1 and "f"."column_id" = $3 and "f"."id" <> $2
           order by "f"."rank", "f"."id" limit 1)
       end as "firstRank"
     from "cards" as "c"
     left join "board_columns" as "t" on "t"."company_id" = $1 and "t"."id" = $3::uuid
     where "c"."company_id" = $1::uuid and "c"."id" = $2::uuid`,
  ),

  /**
   * The move's one write, versioned: no row back means a concurrent writer changed the card first.
   * Args: cardId, expected version, columnId, rank, updatedBy, updatedAt.
   */
  moveWrite: companyStatement(
    'cards.move_write',
    `update "cards" set "column_id" = $4, "rank" = $5, "updated_by" = $6, "updated_at" = $7, "version" = $3::int + 1
     where "company_id" = $1 and "id" = $2 and "version" = $3
     returning "version"`,
  ),
};
