import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * A kanban board of a company. Its columns ({@link BoardColumn}) and cards ({@link Card}) reference it with
 * composite keys `(company_id, board_id)` and go with it (ON DELETE CASCADE), as they go with the company.
 */
@Entity({ tableName: 'boards' })
export class Board extends TenantEntity {
  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text', nullable: true })
  description: string | null;

  /** The principal that created the board (a user id for people). */
  @Property({ length: 100 })
  createdBy: string;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  constructor(name: string, description: string | null, createdBy: string) {
    super();
    this.name = name;
    this.description = description;
    this.createdBy = createdBy;
  }
}
