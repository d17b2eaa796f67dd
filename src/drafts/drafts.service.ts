import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { EntityManager, UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/postgresql';
import { AuditService, type AuditInput } from '../audit/audit.service.js';
import { escapeLike } from '../common/like.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import {
  validateDefinition,
  type DraftDefinition,
  type TemplateDefinition,
} from '../templates/definition.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { actorId, DraftAccess } from './draft-access.js';
import { deriveKeyBase, DraftKeys } from './draft-keys.js';
import { toDraftDto, toDraftSummary } from './draft.mapper.js';
import { DraftVersion } from './draft-version.entity.js';
import { Draft, type DraftContent } from './draft.entity.js';
import { DraftErrors } from './drafts.errors.js';
import type {
  CreateDraftDto,
  DraftDto,
  DraftQueryDto,
  DraftSummaryDto,
  UpdateDraftDto,
} from './dto/draft.dto.js';

const CONTENT_FIELDS = ['key', 'name', 'description', 'category', 'inputSchema', 'steps'] as const;

/** How often a create retries with the next free key when a concurrent create took the derived one. */
const DERIVED_KEY_ATTEMPTS = 20;

/** What an install copies, wherever the listing comes from. */
export interface InstallSource {
  listingId: string;
  definition: DraftDefinition;
  /** The key of the copy when the caller names none (made unique with `-2`, `-3`, …). */
  keyBase: string;
  /** More audit metadata of the `marketplace.installed` event (the listing id is always there). */
  metadata: Record<string, string | number>;
  inTransaction?: (tx: EntityManager) => Promise<void>;
}

/** A new draft's content, and the base its key was derived from (when the caller gave none). */
type NewDraft = DraftContent & { derivedFrom: string | undefined };

/**
 * A company's own templates: their working copies. The working copy of a draft is validated by the same rules
 * as the catalog on every save; publishing it is {@link DraftVersionsService}'s. Members create drafts and edit
 * or delete their own; managers and above edit any. Keys live in the company's namespace ({@link DraftKeys}).
 */
@Injectable()
export class DraftsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly keys: DraftKeys,
    private readonly access: DraftAccess,
  ) {}

  async list(query: DraftQueryDto): Promise<Page<DraftSummaryDto>> {
    const page = keysetFind(query);
    const where: FilterQuery<Draft> = { ...page.where, deletedAt: null };
    if (query.status !== undefined) where.status = query.status;
    if (query.category !== undefined) where.category = query.category;
    const q = query.q?.trim();
    if (q) where.name = { $ilike: `%${escapeLike(q)}%` };
    const rows = await this.em.find(Draft, where, { ...page.options, exclude: ['inputSchema', 'steps'] });
    return toPage(rows, page.limit, toDraftSummary);
  }

  async get(id: string): Promise<DraftDto> {
    return toDraftDto(await this.access.findDraft(id));
  }

  async create(ctx: TenantContext, dto: CreateDraftDto): Promise<DraftDto> {
    const content = await this.prepareNew({ ...dto });
    return this.insertNew(ctx, content, (draft) => ({
      action: 'draft.created',
      target: { type: 'Draft', id: draft.id },
      metadata: { key: draft.key },
    }));
  }

  /**
   * Copies a marketplace listing (a catalog entry or a community listing) into a new draft of the caller's
   * company. The copy keeps no link to the listing: its key is `<keyBase>` (then `-2`, …) unless the caller
   * names one, and only the audit event records where it came from. `source.inTransaction` runs in the
   * install's transaction (a community listing counts the install there; throwing refuses the install).
   */
  async installCopy(
    ctx: TenantContext,
    source: InstallSource,
    overrides: { key?: string; name?: string },
  ): Promise<DraftDto> {
    const raw: Record<string, unknown> = structuredClone(source.definition);
    if (overrides.name !== undefined) raw.name = overrides.name;
    if (overrides.key !== undefined) raw.key = overrides.key;
    const content = await this.prepareNew(raw, source.keyBase);
    return this.insertNew(
      ctx,
      content,
      (draft) => ({
        action: 'marketplace.installed',
        target: { type: 'Draft', id: draft.id },
        metadata: { listingId: source.listingId, ...source.metadata, draftId: draft.id, key: draft.key },
      }),
      source.inTransaction,
    );
  }

  /**
   * Applies any subset of the fields to the working copy and validates the result as a whole. A published
   * version is never touched: the working copy becomes the next version until it is published.
   */
  async update(ctx: TenantContext, id: string, dto: UpdateDraftDto): Promise<DraftDto> {
    return this.access.withDraft(ctx, 'update', id, 'PATCH /v1/drafts/:id', async (tx, draft) => {
      const patch = Object.fromEntries(
        CONTENT_FIELDS.filter((f) => dto[f] !== undefined).map((f) => [f, dto[f]]),
      );
      const result = validateDefinition({ ...draft.content(), ...patch }, { requireKey: false });
      if (!result.ok) throw DraftErrors.InvalidDefinition(result.errors);
      const next = result.value as DraftContent;
      if (next.key !== draft.key) {
        if (draft.publishedVersion !== null) {
          throw DraftErrors.KeyConflict(
            'cannot change once the draft has been published: versions are named by key',
          );
        }
        await this.keys.assertKeyFree(next.key, tx);
      }
      const changed = CONTENT_FIELDS.filter((f) => !isDeepStrictEqual(draft[f], next[f]));
      if (changed.length === 0) return toDraftDto(draft);
      draft.key = next.key;
      draft.name = next.name;
      draft.description = next.description;
      draft.category = next.category;
      draft.inputSchema = next.inputSchema;
      draft.steps = next.steps;
      draft.updatedBy = actorId(ctx);
      const published = draft.publishedVersionId
        ? await tx.findOne(DraftVersion, { id: draft.publishedVersionId })
        : null;
      const same = published !== null && sameDefinition(next, published.definition);
      draft.hasUnpublishedChanges = !same;
      draft.version = same ? published.version : (draft.publishedVersion ?? 0) + 1;
      await tx.flush();
      await this.audit.record(
        {
          action: 'draft.updated',
          target: { type: 'Draft', id: draft.id },
          metadata: { fields: changed, version: draft.version },
        },
        tx,
      );
      return toDraftDto(draft);
    });
  }

  /**
   * Removes a draft that was never published. A draft with published versions is kept, hidden (`deletedAt`):
   * runs that started from its versions keep them, no new run can start from it, and its key stays taken.
   */
  async remove(ctx: TenantContext, id: string): Promise<void> {
    await this.access.withDraft(ctx, 'delete', id, 'DELETE /v1/drafts/:id', async (tx, draft) => {
      const versions = await tx.count(DraftVersion, { draftId: draft.id });
      if (versions === 0) {
        tx.remove(draft);
      } else {
        draft.deletedAt = new Date();
        draft.updatedBy = actorId(ctx);
      }
      await tx.flush();
      await this.audit.record(
        {
          action: 'draft.deleted',
          target: { type: 'Draft', id },
          metadata: { key: draft.key, kept: versions > 0, versions },
        },
        tx,
      );
    });
  }

  // -------------------------------------------------------------------------------------------

  /** Validates a new draft's definition and settles its key (given, or derived and made unique). */
  private async prepareNew(raw: Record<string, unknown>, keyBase?: string): Promise<NewDraft> {
    const result = validateDefinition(raw, { requireKey: false });
    if (!result.ok) throw DraftErrors.InvalidDefinition(result.errors);
    const definition: DraftDefinition = result.value;
    let key = definition.key;
    const derivedFrom =
      key === undefined ? (keyBase ?? deriveKeyBase(definition.category, definition.name)) : undefined;
    if (key !== undefined) await this.keys.assertKeyFree(key);
    else key = await this.keys.freeKey(derivedFrom!);
    return {
      derivedFrom,
      key,
      name: definition.name,
      description: definition.description,
      category: definition.category,
      inputSchema: definition.inputSchema,
      steps: definition.steps,
    };
  }

  /**
   * Inserts a new draft. A key the server derived was free when it was read, but a concurrent create may take it
   * first: then the next free key is taken and the insert retried (a key the caller chose answers 409 instead).
   */
  private async insertNew(
    ctx: TenantContext,
    draft: NewDraft,
    event: (draft: Draft) => AuditInput,
    inTransaction?: (tx: EntityManager) => Promise<void>,
  ): Promise<DraftDto> {
    const { derivedFrom, ...content } = draft;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insert(ctx, content, event, inTransaction);
      } catch (e) {
        const retry =
          e instanceof UniqueConstraintViolationException &&
          derivedFrom !== undefined &&
          attempt < DERIVED_KEY_ATTEMPTS;
        if (!retry) throw e;
        content.key = await this.keys.freeKey(derivedFrom);
      }
    }
  }

  private async insert(
    ctx: TenantContext,
    content: DraftContent,
    event: (draft: Draft) => AuditInput,
    inTransaction?: (tx: EntityManager) => Promise<void>,
  ): Promise<DraftDto> {
    return this.em.transactional(async (tx) => {
      const draft = new Draft(content, actorId(ctx));
      tx.persist(draft);
      await tx.flush();
      if (inTransaction) await inTransaction(tx);
      await this.audit.record(event(draft), tx);
      return toDraftDto(draft);
    });
  }
}

/** Whether a working copy is the same definition as a published snapshot (object key order aside). */
function sameDefinition(content: DraftContent, published: TemplateDefinition): boolean {
  return CONTENT_FIELDS.every((f) => isDeepStrictEqual(content[f], published[f]));
}
