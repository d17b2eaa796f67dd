import type { Opt } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Company } from '../companies/company.entity.js';
import { BaseEntity } from '../database/base.entity.js';
import type { Category, JsonObject, TemplateStep } from '../templates/definition.js';
import { SESSION, settingSql } from '../tenancy/tenant.entity.js';

const COMPANY = settingSql(SESSION.company, 'uuid');

/**
 * A community listing: the copy of one published draft version that its company chose to offer to every
 * company (issue 18). The one table readable across companies, so it is deliberately *not* a tenant table:
 *
 * - it holds only what the contract lists: name, description, category, input schema, steps, the publisher's
 *   chosen `publisherName`, a `summary`, the listing date and the public install count;
 * - `publisher_company_id` exists for the write policy and the company purge (ON DELETE CASCADE from the
 *   `companies` registry) and is never read into a response (`hidden`, and no DTO maps it);
 * - no foreign key, view or join goes from a listing to any tenant table: which draft it was made from is
 *   recorded on the publisher's side ({@link DraftListing}, a tenant table that points here, not back);
 * - row-level security, two policies: every session of a company reads every listing; only the publisher's
 *   company inserts, updates or deletes its rows. RLS is enabled, not forced: the one write another company
 *   makes, adding one to `install_count`, goes through the `listing_installed` function (SECURITY DEFINER,
 *   owned by the schema owner, the only column it touches), see the migration. The application role owns
 *   nothing, so the policies bind it (`assertAppRoleIsBound`), and it has no UPDATE grant on `install_count`.
 *
 * Citus: a reference table (small, read by every company, written rarely), like `companies` (docs/scaling.md).
 */
@Entity({
  tableName: 'listings',
  rowLevelSecurity: true,
  policies: [
    { name: 'listings_read_any_company', command: 'select', using: `${COMPANY} is not null` },
    {
      name: 'listings_publisher_write',
      command: 'all',
      using: `publisher_company_id = ${COMPANY}`,
      check: `publisher_company_id = ${COMPANY}`,
    },
  ],
})
@Index({ name: 'listings_publisher_company_idx', properties: ['publisherCompanyId'] })
@Index({ name: 'listings_category_id_idx', properties: ['category', 'id'] })
export class Listing extends BaseEntity {
  /** For the write policy and the purge only: never mapped into a response. */
  @ManyToOne(() => Company, {
    mapToPk: true,
    fieldName: 'publisher_company_id',
    deleteRule: 'cascade',
    updateRule: 'cascade',
    hidden: true,
  })
  publisherCompanyId: string;

  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text' })
  description: string;

  @Property({ length: 40 })
  category: Category;

  @Property({ type: 'json', columnType: 'json' })
  inputSchema: JsonObject;

  @Property({ type: 'json', columnType: 'json' })
  steps: TemplateStep[];

  @Property({ length: 100 })
  publisherName: string;

  @Property({ length: 500, nullable: true })
  summary: string | null;

  @Property({ type: 'timestamptz' })
  listedAt: Date;

  @Property({ type: 'int', default: 0 })
  installCount: Opt<number> = 0;

  /**
   * Set while the publisher's company is scheduled for deletion: the listing is out of every marketplace (list,
   * read, install) until the deletion is cancelled or the purge removes it. Never mapped into a response.
   */
  @Property({ type: 'timestamptz', nullable: true, hidden: true })
  withdrawnAt: Opt<Date> | null = null;

  constructor(publisherCompanyId: string, snapshot: ListingSnapshot) {
    super();
    this.publisherCompanyId = publisherCompanyId;
    this.replace(snapshot);
  }

  /** Takes the copy and the listing date; re-listing replaces them (the id and the install count stay). */
  replace(snapshot: ListingSnapshot): void {
    this.name = snapshot.name;
    this.description = snapshot.description;
    this.category = snapshot.category;
    this.inputSchema = snapshot.inputSchema;
    this.steps = snapshot.steps;
    this.publisherName = snapshot.publisherName;
    this.summary = snapshot.summary;
    this.listedAt = new Date();
  }
}

/** Everything a listing copies: the contract's list, nothing else. */
export interface ListingSnapshot {
  name: string;
  description: string;
  category: Category;
  inputSchema: JsonObject;
  steps: TemplateStep[];
  publisherName: string;
  summary: string | null;
}
