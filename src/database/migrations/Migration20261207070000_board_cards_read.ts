import { Migration } from '@mikro-orm/migrations';

/**
 * A board's cards in one round trip, without entities (src/tenancy/board-cards.ts, through `ScopedReader`): the
 * cards of the board (optionally one column, one assignee, one label) in rank order with their run's status.
 * Listing a column of 500 cards through the ORM hydrated and snapshotted 500 entities (~90–115 ms of CPU per
 * answer on a loaded machine: docs/benchmarks.md, "Workspace"). Like the other scoped reads it runs as the caller
 * and reads nothing when its company argument differs from the transaction's setting.
 */
export class Migration20261207070000_board_cards_read extends Migration {
  override name = 'Migration20261207070000_board_cards_read';

  override up(): void {
    this.addSql(`create or replace function tenant_board_cards(p_company uuid, p_board uuid, p_column uuid,
        p_assignee uuid, p_label text)
      returns table (id uuid, "boardId" uuid, "columnId" uuid, rank text, title text, description text,
        labels text[], "dueAt" timestamptz, "assigneeId" uuid, "runId" uuid, "runStatus" text, version int,
        "createdBy" text, "updatedBy" text, "createdAt" timestamptz, "updatedAt" timestamptz)
      language plpgsql stable security invoker as $fn$
      #variable_conflict use_column
      begin
        -- The company is the transaction's (set by the tenancy layer from the context), never the argument's alone.
        if p_company is distinct from nullif(current_setting('app.company_id', true), '')::uuid then
          return;
        end if;
        return query
          select c.id, c.board_id, c.column_id, c.rank::text, c.title::text, c.description, c.labels, c.due_at,
            c.assignee_id, c.run_id, r.status::text, c.version, c.created_by::text, c.updated_by::text,
            c.created_at, c.updated_at
          from cards c
            left join runs r on r.company_id = c.company_id and r.id = c.run_id
          where c.company_id = p_company and c.board_id = p_board
            and (p_column is null or c.column_id = p_column)
            and (p_assignee is null or c.assignee_id = p_assignee)
            and (p_label is null or c.labels @> array[p_label])
          order by c.rank, c.id;
      end
    $fn$;`);
    this.addSql(`revoke all on function tenant_board_cards(uuid, uuid, uuid, uuid, text) from public;`);
    this.addSql(
      `grant execute on function tenant_board_cards(uuid, uuid, uuid, uuid, text) to tenantry_app;`,
    );
  }

  override down(): void {
    this.addSql(`drop function if exists tenant_board_cards(uuid, uuid, uuid, uuid, text);`);
  }
}
