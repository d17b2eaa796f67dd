import type { Opt } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { newId } from '../common/ids.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/** Titles are at most this many characters (API.md). */
export const MAX_TITLE_LENGTH = 200;
/** Bodies are at most 1 MiB of UTF-8 (API.md). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Slugs: lower-case ASCII letters and digits in dash-separated words, at most this many characters. */
export const MAX_SLUG_LENGTH = 100;
/**
 * How much of a body the search vector covers (characters). A `tsvector` holds at most 1 MiB, and a hostile
 * 1 MiB body of distinct short words would exceed that; 100,000 characters can never (≤ 13 bytes per lexeme
 * of ≥ 2 characters of text), so no body a client may store fails to save because of its index.
 */
export const SEARCH_BODY_CHARS = 100_000;

/**
 * A page of the company's wiki: Markdown stored exactly as given (the API never renders it), in a tree by
 * `parentId` (no cycles: moves are checked under the company's wiki-tree lock), addressed by id or by its
 * slug (unique in the company, derived from the title at creation and then stable). `version` counts changes
 * (optimistic concurrency: `ETag` / `If-Match`); every change also writes a {@link WikiPageRevision}, whose id
 * is `revisionId` (chosen before the revision is written).
 *
 * `search` is a generated `tsvector` (title weighted A over body B) behind a GIN index that leads with the
 * company (`btree_gin`); the search itself is `searchWikiPages` (src/tenancy/wiki-search.ts).
 *
 * The parent reference is composite in the schema, `(company_id, parent_id) → (company_id, id)`, so no row can
 * link to another company's page, whatever writes it (wall three).
 */
@Entity({ tableName: 'wiki_pages' })
@Unique({ name: 'wiki_pages_company_id_id_unique', properties: ['companyId', 'id'] })
@Unique({ name: 'wiki_pages_company_slug_unique', properties: ['companyId', 'slug'] })
@Index({ name: 'wiki_pages_company_parent_title_idx', properties: ['companyId', 'parentId', 'title'] })
@Index({ name: 'wiki_pages_search_idx', properties: ['companyId', 'search'], type: 'gin' })
export class WikiPage extends TenantEntity {
  @Property({ length: MAX_TITLE_LENGTH })
  title: string;

  @Property({ length: MAX_SLUG_LENGTH })
  slug: string;

  @Property({ type: 'text' })
  body: string;

  @ManyToOne(() => WikiPage, {
    mapToPk: true,
    fieldName: 'parent_id',
    nullable: true,
    deleteRule: 'cascade',
    updateRule: 'no action',
  })
  parentId: string | null;

  @Property({ type: 'int' })
  version: Opt<number> = 1;

  /** The id of the revision the page currently is (the newest one); set with each new revision. */
  @Property({ type: 'uuid' })
  revisionId: Opt<string> = newId();

  /** The principal that created the page (a user id for people): members may delete only their own. */
  @Property({ length: 100 })
  createdBy: string;

  @Property({ length: 100 })
  updatedBy: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  @Property({
    columnType: 'tsvector',
    lazy: true,
    hidden: true,
    nullable: true,
    generated: `(setweight(to_tsvector('english'::regconfig, (title)::text), 'A'::"char") || setweight(to_tsvector('english'::regconfig, "left"(body, ${SEARCH_BODY_CHARS})), 'B'::"char")) stored`,
  })
  search?: Opt<string>;

  constructor(fields: { title: string; slug: string; body: string; parentId: string | null }, by: string) {
    super();
    this.title = fields.title;
    this.slug = fields.slug;
    this.body = fields.body;
    this.parentId = fields.parentId;
    this.createdBy = by;
    this.updatedBy = by;
  }
}
