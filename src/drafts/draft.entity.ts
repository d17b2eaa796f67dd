import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { Category, JsonObject, TemplateStep } from '../templates/definition.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { DraftVersion } from './draft-version.entity.js';

export const DRAFT_STATUSES = ['draft', 'published', 'unpublished'] as const;
/** `draft`: never published · `published`: its versions can start runs · `unpublished`: they cannot. */
export type DraftStatus = (typeof DRAFT_STATUSES)[number];

/** The editable part of a draft: a template definition without `version` (the server numbers versions). */
export interface DraftContent {
  key: string;
  name: string;
  description: string;
  category: Category;
  inputSchema: JsonObject;
  steps: TemplateStep[];
}

/**
 * A company's own template, in the definition format of the catalog: the *working copy*. Publishing snapshots
 * it into an immutable {@link DraftVersion}; editing afterwards changes only the working copy, which becomes
 * the next version (`version` = last published + 1, `hasUnpublishedChanges`).
 *
 * Definitions are stored as `json`, not `jsonb`: nothing queries inside them, and `jsonb` would reorder object
 * keys (an input schema's `properties` are a form's field order), so a draft would not read back as written.
 *
 * A draft with published versions is never removed (runs refer to its versions): deleting it sets `deletedAt`,
 * after which it is invisible and cannot start runs, and its key stays reserved so that (key, version) never
 * names two different definitions in a company. A draft that was never published is removed outright.
 */
@Entity({ tableName: 'drafts' })
@Unique({ name: 'drafts_company_key_unique', properties: ['companyId', 'key'] })
export class Draft extends TenantEntity {
  @Property({ length: 100 })
  key: string;

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

  @Enum({ items: () => DRAFT_STATUSES, nativeEnumName: undefined })
  status: Opt<DraftStatus> = 'draft';

  /** The version number of the working copy: what the next publish creates while it has changes. */
  @Property({ type: 'int' })
  version: Opt<number> = 1;

  /** Whether the working copy differs from the last published version (always true before the first). */
  @Property({ type: 'boolean' })
  hasUnpublishedChanges: Opt<boolean> = true;

  @Property({ type: 'int', nullable: true })
  publishedVersion: Opt<number> | null = null;

  /** The latest published version: a composite key within the company (wall three). */
  @ManyToOne(() => DraftVersion, {
    mapToPk: true,
    fieldName: 'published_version_id',
    nullable: true,
    deleteRule: 'no action',
  })
  publishedVersionId: Opt<string> | null = null;

  /** The principal that created the draft (a user id for people): members may edit only their own. */
  @Property({ length: 100 })
  createdBy: string;

  @Property({ length: 100 })
  updatedBy: string;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Opt<Date> | null = null;

  constructor(content: DraftContent, createdBy: string) {
    super();
    this.key = content.key;
    this.name = content.name;
    this.description = content.description;
    this.category = content.category;
    this.inputSchema = content.inputSchema;
    this.steps = content.steps;
    this.createdBy = createdBy;
    this.updatedBy = createdBy;
  }

  content(): DraftContent {
    return {
      key: this.key,
      name: this.name,
      description: this.description,
      category: this.category,
      inputSchema: this.inputSchema,
      steps: this.steps,
    };
  }
}
