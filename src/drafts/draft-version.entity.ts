import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { TemplateDefinition } from '../templates/definition.js';
import { TenantEntity } from '../tenancy/tenant.entity.js';
import { Draft } from './draft.entity.js';

/**
 * One published version of a draft: an immutable snapshot of its definition (with `key` and `version`), the
 * thing runs start from. Immutable for everyone: the application role has no UPDATE or DELETE grant on the
 * table (see the migration) and a trigger refuses both, except the cascade of a company purge.
 */
@Entity({
  tableName: 'draft_versions',
  triggers: [
    {
      name: 'immutable',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      body: `if tg_op = 'DELETE' and not exists (select 1 from companies c where c.id = old.company_id) then return old; end if; raise exception 'draft versions are immutable' using errcode = 'TY409';`,
    },
  ],
})
@Unique({
  name: 'draft_versions_company_draft_version_unique',
  properties: ['companyId', 'draftId', 'version'],
})
@Index({ name: 'draft_versions_company_draft_id_idx', properties: ['companyId', 'draftId', 'id'] })
export class DraftVersion extends TenantEntity {
  @ManyToOne(() => Draft, { mapToPk: true, fieldName: 'draft_id' })
  draftId: string;

  @Property({ type: 'int' })
  version: number;

  @Property({ length: 100 })
  key: string;

  /** The whole definition as published, `key` and `version` included. */
  @Property({ type: 'json', columnType: 'json' })
  definition: TemplateDefinition;

  @Property({ length: 100 })
  publishedBy: string;

  @Property({ type: 'timestamptz' })
  publishedAt: Date;

  constructor(draftId: string, definition: TemplateDefinition, publishedBy: string) {
    super();
    this.draftId = draftId;
    this.version = definition.version;
    this.key = definition.key;
    this.definition = definition;
    this.publishedBy = publishedBy;
    this.publishedAt = new Date();
  }
}
