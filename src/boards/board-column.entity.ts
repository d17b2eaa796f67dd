import type { Opt } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Board } from './board.entity.js';

/**
 * A column of a board. `rank` is a fractional key (`fractional-indexing`): columns are listed by rank, and
 * moving one writes only its own row. Ranks compare bytewise (`COLLATE "C"`), as the keys are built to.
 * `wipLimit` (null: none) caps the cards in the column, enforced on create and move under a lock of this row.
 */
@Entity({ tableName: 'board_columns' })
@Index({ name: 'board_columns_company_board_rank_idx', properties: ['companyId', 'boardId', 'rank'] })
export class BoardColumn extends TenantEntity {
  @ManyToOne(() => Board, { mapToPk: true, fieldName: 'board_id', deleteRule: 'cascade' })
  boardId: string;

  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text', collation: 'C' })
  rank: string;

  @Property({ type: 'int', nullable: true })
  wipLimit: number | null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(boardId: string, name: string, rank: string, wipLimit: number | null = null) {
    super();
    this.boardId = boardId;
    this.name = name;
    this.rank = rank;
    this.wipLimit = wipLimit;
  }
}
