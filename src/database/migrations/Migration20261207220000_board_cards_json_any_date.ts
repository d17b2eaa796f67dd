import { Migration } from '@mikro-orm/migrations';

/** A card as `CardDto` writes it (`v`), with its run's status (`r`), as migration `board_cards_json` has it. */
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
 * `tenant_board_cards_json` (migration `board_cards_json`), given `fallback`: whether a listing holding a card due
 * before 1900 answers no body, for the caller to write it in Node (as that migration had it), or is written here
 * like any other. The JSON, when there is one, is the same.
 */
const listing = (fallback: boolean) => {
  const before1900 = (dueAt: string, json: string) =>
    fallback ? `case when bool_or(${dueAt} < '1900-01-01 00:00:00+00') then null else ${json} end` : json;
  return `create or replace function tenant_board_cards_json(p_company uuid, p_board uuid, p_column text,
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
              ${before1900(
                'c.due_at',
                `'{"data":[' || coalesce(string_agg(row_to_json(v)::text, ',' order by c.rank, c.id), '')
                  || '],"nextCursor":null}'`,
              )}
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
            ${before1900(
              'c.due_at',
              `'{"data":[' || coalesce(string_agg(row_to_json(v)::text, ','
                order by coalesce(o.ord, 0), c.rank, c.id), '') || '],"nextCursor":null}'`,
            )}
          from cards c
            left join cols o on o.id = c.column_id
            ${CARD_ROW}
          where c.company_id = p_company and c.board_id = p_board
            and (p_assignee is null or c.assignee_id = p_assignee)
            and (p_label is null or c.labels @> array[p_label]);
      end
    $fn$;`;
};

/**
 * The board listing (`tenant_board_cards_json`) writes every listing, whatever its cards' due dates: the fallback
 * of migration `board_cards_json` for a card due before 1900 goes. Node wrote those listings from the rows because
 * it read PostgreSQL's text of a timestamp with `new Date(text)`, JavaScript's legacy parse, which is not what
 * PostgreSQL meant for such dates (year 0050 read as 1950; an offset with seconds, invalid), and the answer had to
 * stay what it was. Rows read without the ORM are now read with postgres-date (src/database/timestamps.ts, the parse
 * MikroORM hydrates entities with), so a card's own route, a move's answer and this listing agree with `to_char` on
 * every date of years 1–9999 (the API takes 100–9999; a BC date written outside it would list without its era);
 * test/boards-list.e2e-spec.ts pins the bytes with cards due in 1850 and in year 50. Roll back code before this
 * migration: the code before it expects the function to answer no body for such listings, the code after refuses
 * that answer with a 500 rather than send `null`.
 *
 * Column ids reach the function in lower case (`IsId`), so its comparison of the column as text finds an
 * upper-case spelling of a column too. SQL copied in, not imported: migrations are frozen text.
 */
export class Migration20261207220000_board_cards_json_any_date extends Migration {
  override name = 'Migration20261207220000_board_cards_json_any_date';

  override up(): void {
    this.addSql(listing(false));
  }

  override down(): void {
    this.addSql(listing(true));
  }
}
