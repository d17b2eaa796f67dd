import type { Opt } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Run } from '../runs/run.entity.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { BoardColumn } from './board-column.entity.js';
import { Board } from './board.entity.js';

/**
 * A card in a column of a board. `rank` orders the cards of one column (a fractional key, bytewise: a move
 * writes this row only). `version` is the optimistic-locking counter: every update is conditional on it in the
 * UPDATE's WHERE (the ORM's `version` property), so of two concurrent writers exactly one wins; the API shows it
 * as the ETag and requires it in `If-Match`.
 *
 * References stay in the company: board, column and run by composite foreign keys `(company_id, x_id)`;
 * `assigneeId` is a member of the company (checked on write; removing the member unassigns their cards).
 */
@Entity({ tableName: 'cards' })
@Index({ name: 'cards_company_column_rank_idx', properties: ['companyId', 'columnId', 'rank'] })
@Index({ name: 'cards_company_board_idx', properties: ['companyId', 'boardId'] })
@Index({ name: 'cards_company_assignee_idx', properties: ['companyId', 'assigneeId'] })
@Index({ name: 'cards_company_run_idx', properties: ['companyId', 'runId'] })
export class Card extends TenantEntity {
  @ManyToOne(() => Board, { mapToPk: true, fieldName: 'board_id', deleteRule: 'cascade' })
  boardId: string;

  @ManyToOne(() => BoardColumn, { mapToPk: true, fieldName: 'column_id' })
  columnId: string;

  @Property({ type: 'text', collation: 'C' })
  rank: string;

  @Property({ length: 200 })
  title: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'text[]' })
  labels: string[] = [];

  @Property({ type: 'timestamptz', nullable: true })
  dueAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  assigneeId: string | null = null;

  @ManyToOne(() => Run, { mapToPk: true, fieldName: 'run_id', nullable: true, deleteRule: 'no action' })
  runId: string | null = null;

  /** The principal that created the card: members may delete only their own. */
  @Property({ length: 100 })
  createdBy: string;

  @Property({ length: 100 })
  updatedBy: string;

  @Property({ type: 'int', version: true })
  version: Opt<number> = 1;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(boardId: string, columnId: string, rank: string, title: string, createdBy: string) {
    super();
    this.boardId = boardId;
    this.columnId = columnId;
    this.rank = rank;
    this.title = title;
    this.createdBy = createdBy;
    this.updatedBy = createdBy;
  }
}
