import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { isUuid } from '../common/ids.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import { validateDefinition, type TemplateDefinition } from '../templates/definition.js';
import type { RunnableTemplate } from '../templates/template-source.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { actorId, DraftAccess } from './draft-access.js';
import { toDraftDto, toDraftVersionDto, toDraftVersionSummary } from './draft.mapper.js';
import { DraftVersion } from './draft-version.entity.js';
import { Draft } from './draft.entity.js';
import { DraftErrors } from './drafts.errors.js';
import type { DraftDto, DraftVersionDto, DraftVersionSummaryDto } from './dto/draft.dto.js';

/**
 * Owns the published side of the company's drafts: publishing the working copy as an immutable, numbered
 * {@link DraftVersion}, unpublishing, reading the versions, and handing a published version to what starts runs
 * from it or lists it on the marketplace. Managers and above publish and unpublish.
 */
@Injectable()
export class DraftVersionsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly access: DraftAccess,
  ) {}

  /**
   * Snapshots the working copy as version n (immutable). A draft without changes since its last version is
   * not published twice (409); an unpublished one without changes is published again as that same version.
   */
  async publish(ctx: TenantContext, id: string): Promise<DraftDto> {
    return this.access.withDraft(ctx, 'publish', id, 'POST /v1/drafts/:id/publish', async (tx, draft) => {
      let version: DraftVersion;
      let republished = false;
      if (!draft.hasUnpublishedChanges && draft.publishedVersionId !== null) {
        if (draft.status === 'published') {
          throw DraftErrors.AlreadyPublished(draft.publishedVersion);
        }
        const last = await tx.findOne(DraftVersion, { id: draft.publishedVersionId });
        if (!last) throw Errors.notFound('DraftVersion');
        version = last;
        republished = true;
      } else {
        // Saved drafts were valid when saved; validate once more as a whole template (the rules may be stricter now).
        const result = validateDefinition({ ...draft.content(), version: draft.version });
        if (!result.ok) throw DraftErrors.InvalidDefinition(result.errors);
        version = new DraftVersion(draft.id, result.value, actorId(ctx));
        tx.persist(version);
        draft.publishedVersion = version.version;
        draft.publishedVersionId = version.id;
        draft.hasUnpublishedChanges = false;
      }
      draft.status = 'published';
      await tx.flush();
      await this.audit.record(
        {
          action: 'draft.published',
          target: { type: 'Draft', id: draft.id },
          metadata: { version: version.version, versionId: version.id, republished },
        },
        tx,
      );
      return toDraftDto(draft);
    });
  }

  /** No new run can start from any version of the draft; the versions stay, for history and running runs. */
  async unpublish(ctx: TenantContext, id: string): Promise<DraftDto> {
    return this.access.withDraft(ctx, 'publish', id, 'POST /v1/drafts/:id/unpublish', async (tx, draft) => {
      if (draft.status !== 'published') throw DraftErrors.NotPublished();
      draft.status = 'unpublished';
      await tx.flush();
      await this.audit.record(
        {
          action: 'draft.unpublished',
          target: { type: 'Draft', id: draft.id },
          metadata: { version: draft.publishedVersion },
        },
        tx,
      );
      return toDraftDto(draft);
    });
  }

  async listVersions(id: string, query: PageQueryDto): Promise<Page<DraftVersionSummaryDto>> {
    await this.access.findDraft(id);
    const page = keysetFind(query);
    const rows = await this.em.find(
      DraftVersion,
      { ...page.where, draftId: id },
      { ...page.options, exclude: ['definition'] },
    );
    return toPage(rows, page.limit, toDraftVersionSummary);
  }

  async getVersion(id: string, versionId: string): Promise<DraftVersionDto> {
    await this.access.findDraft(id);
    const version = await this.em.findOne(DraftVersion, { id: versionId, draftId: id });
    if (!version) throw Errors.notFound('DraftVersion');
    return toDraftVersionDto(version);
  }

  /**
   * A published version of a draft of the current company, for a run to start from. Another company's version
   * is invisible (404, like a missing one); a version of an unpublished draft cannot start runs (409); a
   * deleted draft is gone (404).
   */
  async runnableVersion(versionId: string): Promise<RunnableTemplate> {
    if (!isUuid(versionId)) throw Errors.notFound('DraftVersion');
    const version = await this.em.findOne(DraftVersion, { id: versionId });
    const draft = version ? await this.em.findOne(Draft, { id: version.draftId, deletedAt: null }) : null;
    if (!version || !draft) throw Errors.notFound('DraftVersion');
    if (draft.status !== 'published') {
      throw DraftErrors.VersionUnpublished();
    }
    return {
      source: 'draft',
      id: version.id,
      key: version.key,
      version: version.version,
      definition: structuredClone(version.definition),
    };
  }

  /**
   * A published version of a draft of the company, for a marketplace listing: `versionId` when given (it must be
   * a version of this draft), else the latest. A draft without a published version, or unpublished, cannot be
   * listed (409).
   */
  async listableVersion(
    id: string,
    versionId: string | undefined,
  ): Promise<{ draftId: string; versionId: string; version: number; definition: TemplateDefinition }> {
    const draft = await this.access.findDraft(id);
    if (draft.publishedVersionId === null) {
      throw DraftErrors.NothingToList();
    }
    if (draft.status !== 'published') {
      throw DraftErrors.UnpublishedNotListable();
    }
    const wanted = versionId ?? draft.publishedVersionId;
    const version = await this.em.findOne(DraftVersion, { id: wanted, draftId: draft.id });
    if (!version) throw Errors.notFound('DraftVersion');
    return {
      draftId: draft.id,
      versionId: version.id,
      version: version.version,
      definition: structuredClone(version.definition),
    };
  }
}
