import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { MAX_SLUG_LENGTH, MAX_TITLE_LENGTH, WikiPage } from './wiki-page.entity.js';

/**
 * A wiki page as it stood after one change (creation included): the whole page, with the author of that
 * change. Revisions are immutable; the newest one of a page equals the page. Deleting the page removes them
 * (composite key to the page, ON DELETE CASCADE), as does purging the company.
 */
@Entity({ tableName: 'wiki_page_revisions' })
@Unique({ name: 'wiki_page_revisions_company_id_id_unique', properties: ['companyId', 'id'] })
@Unique({
  name: 'wiki_page_revisions_company_page_version_unique',
  properties: ['companyId', 'pageId', 'version'],
})
@Index({ name: 'wiki_page_revisions_company_page_id_idx', properties: ['companyId', 'pageId', 'id'] })
export class WikiPageRevision extends TenantEntity {
  @ManyToOne(() => WikiPage, { mapToPk: true, fieldName: 'page_id', deleteRule: 'cascade' })
  pageId: string;

  /** The page's version this revision is. */
  @Property({ type: 'int' })
  version: number;

  @Property({ length: MAX_TITLE_LENGTH })
  title: string;

  @Property({ length: MAX_SLUG_LENGTH })
  slug: string;

  @Property({ type: 'text' })
  body: string;

  @Property({ type: 'uuid', nullable: true })
  parentId: string | null;

  /** Who made the change (a user id for people). */
  @Property({ length: 100 })
  authorId: string;

  /** The revision `page.revisionId` names, as the page stands now. */
  constructor(page: WikiPage, authorId: string) {
    super();
    this.id = page.revisionId;
    this.pageId = page.id;
    this.version = page.version;
    this.title = page.title;
    this.slug = page.slug;
    this.body = page.body;
    this.parentId = page.parentId;
    this.authorId = authorId;
  }
}
