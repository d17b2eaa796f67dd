import { Migration } from '@mikro-orm/migrations';

/** A card as `CardDto` writes it (`v`), with its run's status (`r`): the projection both listings share. */
const CARD_ROW = `left join runs r on r.company_id = c.company_id and r.id = c.run_id
  cross join lateral (
    select c.id, c.board_id as "boardId", c.column_id as "columnId", c.rank::text as rank,
      c.title::text as title, c.description, c.labels,
      to_char(c.due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "dueAt",
      c.assignee_id as "assigneeId",
      case when c.run_id is not null and r.status <> '' then
        (select row_to_json(x) from (select c.run_id as id, r.status::text as status) x)
      end as run,
      c.version, c.created_by::text as "createdBy", c.updated_by::text as "updatedBy",
      to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
      to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
  ) v`;

/**
 * A board's card listing as the response body itself, in one statement (src/tenancy/board-cards.ts, through
 * `ScopedReader`; issue 15, "listing a column of 500 cards: one query"). Before, the route read the board and its
 * columns through the ORM (the 404s and the column order), then the cards through `tenant_board_cards`, and Node
 * mapped 500 rows to DTOs and serialised ~250 KB of JSON. Now the function answers, in this order:
 *
 * - `missing = 'Board'` when the board is not the company's (a missing id and another company's alike);
 * - `missing = 'Column'` when a column is asked for that is not one of the board's, compared as the text sent
 *   (the route compared the lower-case ids it read with the id as given: an upper-case id is not found);
 * - otherwise `body`: `{"data":[…],"nextCursor":null}`, the cards in board order (the board's columns by rank
 *   then id, bytewise; a card of a column not on the board first, as the route's stable sort put it; within a
 *   column by rank then id), each card with the fields of `CardDto` in its order, `run` being `{id, status}` when
 *   the card has a run with a status, timestamps as `Date.toISOString` writes them (UTC, milliseconds, truncated
 *   like the driver's parse did). `row_to_json` writes compact JSON and escapes strings as `JSON.stringify` does,
 *   so the body is the bytes the route's `JSON.stringify` of the mapped DTOs gave (test/boards-list.e2e-spec.ts
 *   pins it against `toCardRowDto`);
 * - `body` null (and `missing` null) when a card listed has a due date before 1900: the caller then reads the
 *   rows and writes the JSON in Node as before. The route wrote dates through JavaScript's legacy parse of
 *   PostgreSQL's text, which is not `to_char` for those (a due date of `0050-06-15` read as 1950-06-15, a local
 *   mean time offset such as `+00:53:28`), and the answer must stay what it was for every card.
 *
 * The function's plans are generic (`plan_cache_mode = force_generic_plan`: planning the listing took ~0.5 ms of
 * each call), with one query for a column (its index) and one for the whole board.
 *
 * Like the other scoped reads it runs as the caller (row-level security applies), filters every table on its
 * company argument, and reads nothing when that argument differs from the transaction's `app.company_id`.
 * `tenant_board_cards` stays: that fallback reads through it. SQL copied in, not imported: migrations are
 * frozen text.
 */
export class Migration20261207183000_board_cards_json extends Migration {
  override name = 'Migration20261207183000_board_cards_json';

  override up(): void {
    this
      .addSql(`create or replace function tenant_board_cards_json(p_company uuid, p_board uuid, p_column text,
        p_assignee uuid, p_label text)
      returns table (missing text, body text)
      language plpgsql stable security invoker set plan_cache_mode = force_generic_plan as $fn$
      #variable_conflict use_column
      declare
        v_column uuid;
      begin
        -- The company is the transaction's (set by the tenancy layer from the context), never the argument's alone.
        if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
          return;
        end if;
        if not exists (select 1 from boards b where b.company_id = p_company and b.id = p_board) then
          return query select 'Board'::text, null::text;
          return;
        end if;
        if p_column is not null then
          select k.id into v_column from board_columns k
            where k.company_id = p_company and k.board_id = p_board and k.id::text = p_column;
          if v_column is null then
            return query select 'Column'::text, null::text;
            return;
          end if;
        end if;
        -- Two queries, one per index (the column's, the board's): the plans are generic (no planning per call), and
        -- a generic plan of "v_column is null or c.column_id = v_column" could not use the column's index.
        if v_column is not null then
          return query
            select null::text,
              case when bool_or(c.due_at < '1900-01-01 00:00:00+00') then null
                else '{"data":[' || coalesce(string_agg(row_to_json(v)::text, ',' order by c.rank, c.id), '')
                  || '],"nextCursor":null}'
              end
            from cards c
              ${CARD_ROW}
            where c.company_id = p_company and c.column_id = v_column and c.board_id = p_board
              and (p_assignee is null or c.assignee_id = p_assignee)
              and (p_label is null or c.labels @> array[p_label]);
          return;
        end if;
        return query
          with cols as (
            select k.id, row_number() over (order by k.rank, k.id) - 1 as ord
            from board_columns k
            where k.company_id = p_company and k.board_id = p_board
          )
          select null::text,
            case when bool_or(c.due_at < '1900-01-01 00:00:00+00') then null
              else '{"data":[' || coalesce(string_agg(row_to_json(v)::text, ','
                order by coalesce(o.ord, 0), c.rank, c.id), '') || '],"nextCursor":null}'
            end
          from cards c
            left join cols o on o.id = c.column_id
            ${CARD_ROW}
          where c.company_id = p_company and c.board_id = p_board
            and (p_assignee is null or c.assignee_id = p_assignee)
            and (p_label is null or c.labels @> array[p_label]);
      end
    $fn$;`);
    this.addSql(`revoke all on function tenant_board_cards_json(uuid, uuid, text, uuid, text) from public;`);
    this.addSql(
      `grant execute on function tenant_board_cards_json(uuid, uuid, text, uuid, text) to tenantry_app;`,
    );
  }

  override down(): void {
    this.addSql(`drop function if exists tenant_board_cards_json(uuid, uuid, text, uuid, text);`);
  }
}
