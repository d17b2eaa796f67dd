import { permissionForRule } from '../authz/permissions.js';
import { isDeepStrictEqual } from 'node:util';
import { subject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import {
  EntityManager,
  LockMode,
  UniqueConstraintViolationException,
  type FilterQuery,
} from '@mikro-orm/postgresql';
import { AuditService, type AuditInput } from '../audit/audit.service.js';
import { abilityFor, type Action } from '../authz/abilities.js';
import { AppError, Errors } from '../common/errors/app-error.js';
import { isUuid } from '../common/ids.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import {
  MAX_KEY_LENGTH,
  validateDefinition,
  type DraftDefinition,
  type FieldError,
  type TemplateDefinition,
} from '../templates/definition.js';
import { TemplateCatalog } from '../templates/template-catalog.js';
import type { RunnableTemplate } from '../templates/template-source.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DraftVersion } from './draft-version.entity.js';
import { Draft, type DraftContent } from './draft.entity.js';
import type {
  CreateDraftDto,
  DraftDto,
  DraftQueryDto,
  DraftSummaryDto,
  DraftVersionDto,
  DraftVersionSummaryDto,
  UpdateDraftDto,
} from './dto/draft.dto.js';

const CONTENT_FIELDS = ['key', 'name', 'description', 'category', 'inputSchema', 'steps'] as const;

/** Who a change is attributed to; the same identity the ability factory compares `createdBy` with. */
function actorId(ctx: TenantContext): string {
  return ctx.actingUserId;
}

/** 400 with every error of the definition validator, paths as the body has them (`''` → `body`). */
function invalidDefinition(errors: FieldError[]): AppError {
  const list = errors.map((e) => ({ field: e.field === '' ? 'body' : e.field, message: e.message }));
  const first = list[0] ?? { field: 'body', message: 'is invalid' };
  const more = list.length > 1 ? ` (and ${list.length - 1} more)` : '';
  return Errors.validation(`Invalid template definition: ${first.field} ${first.message}${more}`, list);
}

/** 409 about the key, with the field named like a validation error. */
function keyConflict(message: string): AppError {
  return new AppError(409, 'CONFLICT', `key ${message}`, [{ field: 'key', message }]);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

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

/** `<category>.<slug of the name>`: a valid key to start from when the author gives none. */
export function deriveKeyBase(category: string, name: string): string {
  let slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(slug)) slug = slug === '' ? 'draft' : `draft-${slug}`;
  // Room for a `-<n>` suffix within MAX_KEY_LENGTH.
  return `${category}.${slug}`.slice(0, MAX_KEY_LENGTH - 6).replace(/-+$/, '');
}

function toSummary(d: Omit<Draft, 'inputSchema' | 'steps'>): DraftSummaryDto {
  return {
    id: d.id,
    key: d.key,
    name: d.name,
    description: d.description,
    category: d.category,
    status: d.status,
    version: d.version,
    hasUnpublishedChanges: d.hasUnpublishedChanges,
    publishedVersion: d.publishedVersion,
    publishedVersionId: d.publishedVersionId,
    createdBy: d.createdBy,
    updatedBy: d.updatedBy,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function toDraftDto(d: Draft): DraftDto {
  return { ...toSummary(d), inputSchema: d.inputSchema, steps: d.steps };
}

function toVersionSummary(v: Omit<DraftVersion, 'definition'>): DraftVersionSummaryDto {
  return {
    id: v.id,
    draftId: v.draftId,
    version: v.version,
    key: v.key,
    publishedBy: v.publishedBy,
    publishedAt: v.publishedAt.toISOString(),
  };
}

function toVersionDto(v: DraftVersion): DraftVersionDto {
  const d = v.definition;
  return {
    ...toVersionSummary(v),
    definition: { ...d, steps: d.steps },
  };
}

/**
 * A company's own templates. The working copy of a draft is validated by the same rules as the catalog on
 * every save; publishing snapshots it into an immutable, numbered {@link DraftVersion} that runs start from.
 * Members create drafts and edit or delete their own; managers and above edit any, publish and unpublish.
 * Keys live in the company's namespace and never equal a catalog key, so no draft can shadow the catalog.
 */
@Injectable()
export class DraftsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly catalog: TemplateCatalog,
  ) {}

  async list(query: DraftQueryDto): Promise<Page<DraftSummaryDto>> {
    const page = keysetFind(query);
    const where: FilterQuery<Draft> = { ...page.where, deletedAt: null };
    if (query.status !== undefined) where.status = query.status;
    if (query.category !== undefined) where.category = query.category;
    const q = query.q?.trim();
    if (q) where.name = { $ilike: `%${escapeLike(q)}%` };
    const rows = await this.em.find(Draft, where, { ...page.options, exclude: ['inputSchema', 'steps'] });
    return toPage(rows, page.limit, toSummary);
  }

  async get(id: string): Promise<DraftDto> {
    return toDraftDto(await this.findDraft(id));
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
   * A published version of a draft of the company, for a marketplace listing: `versionId` when given (it must be
   * a version of this draft), else the latest. A draft without a published version, or unpublished, cannot be
   * listed (409).
   */
  async listableVersion(
    id: string,
    versionId: string | undefined,
  ): Promise<{ draftId: string; versionId: string; version: number; definition: TemplateDefinition }> {
    const draft = await this.findDraft(id);
    if (draft.publishedVersionId === null) {
      throw Errors.conflict('The draft has no published version: publish it before listing it');
    }
    if (draft.status !== 'published') {
      throw Errors.conflict('The draft is unpublished: publish it again before listing it');
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

  /**
   * Applies any subset of the fields to the working copy and validates the result as a whole. A published
   * version is never touched: the working copy becomes the next version until it is published.
   */
  async update(ctx: TenantContext, id: string, dto: UpdateDraftDto): Promise<DraftDto> {
    return this.withDraft(ctx, 'update', id, 'PATCH /v1/drafts/:id', async (tx, draft) => {
      const patch = Object.fromEntries(
        CONTENT_FIELDS.filter((f) => dto[f] !== undefined).map((f) => [f, dto[f]]),
      );
      const result = validateDefinition({ ...draft.content(), ...patch }, { requireKey: false });
      if (!result.ok) throw invalidDefinition(result.errors);
      const next = result.value as DraftContent;
      if (next.key !== draft.key) {
        if (draft.publishedVersion !== null) {
          throw keyConflict('cannot change once the draft has been published: versions are named by key');
        }
        await this.assertKeyFree(next.key, tx);
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
    await this.withDraft(ctx, 'delete', id, 'DELETE /v1/drafts/:id', async (tx, draft) => {
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

  /**
   * Snapshots the working copy as version n (immutable). A draft without changes since its last version is
   * not published twice (409); an unpublished one without changes is published again as that same version.
   */
  async publish(ctx: TenantContext, id: string): Promise<DraftDto> {
    return this.withDraft(ctx, 'publish', id, 'POST /v1/drafts/:id/publish', async (tx, draft) => {
      let version: DraftVersion;
      let republished = false;
      if (!draft.hasUnpublishedChanges && draft.publishedVersionId !== null) {
        if (draft.status === 'published') {
          throw Errors.conflict(
            `The draft is already published as version ${draft.publishedVersion} and has not changed since`,
          );
        }
        const last = await tx.findOne(DraftVersion, { id: draft.publishedVersionId });
        if (!last) throw Errors.notFound('DraftVersion');
        version = last;
        republished = true;
      } else {
        // Saved drafts were valid when saved; validate once more as a whole template (the rules may be stricter now).
        const result = validateDefinition({ ...draft.content(), version: draft.version });
        if (!result.ok) throw invalidDefinition(result.errors);
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
    return this.withDraft(ctx, 'publish', id, 'POST /v1/drafts/:id/unpublish', async (tx, draft) => {
      if (draft.status !== 'published') throw Errors.conflict('The draft is not published');
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
    await this.findDraft(id);
    const page = keysetFind(query);
    const rows = await this.em.find(
      DraftVersion,
      { ...page.where, draftId: id },
      { ...page.options, exclude: ['definition'] },
    );
    return toPage(rows, page.limit, toVersionSummary);
  }

  async getVersion(id: string, versionId: string): Promise<DraftVersionDto> {
    await this.findDraft(id);
    const version = await this.em.findOne(DraftVersion, { id: versionId, draftId: id });
    if (!version) throw Errors.notFound('DraftVersion');
    return toVersionDto(version);
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
      throw Errors.conflict('The draft of this version is unpublished: no new runs can start from it');
    }
    return {
      source: 'draft',
      id: version.id,
      key: version.key,
      version: version.version,
      definition: structuredClone(version.definition),
    };
  }

  // -------------------------------------------------------------------------------------------

  private async findDraft(id: string): Promise<Draft> {
    const draft = await this.em.findOne(Draft, { id, deletedAt: null });
    if (!draft) throw Errors.notFound('Draft');
    return draft;
  }

  /** Validates a new draft's definition and settles its key (given, or derived and made unique). */
  private async prepareNew(raw: Record<string, unknown>, keyBase?: string): Promise<NewDraft> {
    const result = validateDefinition(raw, { requireKey: false });
    if (!result.ok) throw invalidDefinition(result.errors);
    const definition: DraftDefinition = result.value;
    let key = definition.key;
    const derivedFrom =
      key === undefined ? (keyBase ?? deriveKeyBase(definition.category, definition.name)) : undefined;
    if (key !== undefined) await this.assertKeyFree(key);
    else key = await this.freeKey(derivedFrom!);
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
        content.key = await this.freeKey(derivedFrom);
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

  /** A catalog key is never available; a key of the company is unique (deleted drafts' keys included). */
  private async assertKeyFree(key: string, em: EntityManager = this.em): Promise<void> {
    if (this.catalog.hasKey(key)) {
      throw keyConflict(`"${key}" belongs to a governed catalog template; choose another key`);
    }
    if ((await em.count(Draft, { key })) > 0) {
      throw keyConflict(`"${key}" is already used by another draft of the company`);
    }
  }

  /** `base`, else `base-2`, `base-3`, …: the first key that is neither a catalog key nor taken in the company. */
  private async freeKey(base: string): Promise<string> {
    const rows = await this.em.find(Draft, { key: { $like: `${escapeLike(base)}%` } }, { fields: ['key'] });
    const taken = new Set(rows.map((d) => d.key));
    for (let n = 1; ; n++) {
      const key = n === 1 ? base : `${base}-${n}`;
      if (!taken.has(key) && !this.catalog.hasKey(key)) return key;
    }
  }

  /**
   * Runs `fn` on the draft, locked for the transaction, after the row-level check: members may change only
   * drafts they created. A denial answers 404, like a missing draft, and is audited as `authorization.denied`
   * (in a transaction of its own, since the change's transaction is rolled back).
   */
  private async withDraft<T>(
    ctx: TenantContext,
    action: Action,
    id: string,
    route: string,
    fn: (tx: EntityManager, draft: Draft) => Promise<T>,
  ): Promise<T> {
    let denied = false;
    try {
      return await this.em.transactional(async (tx) => {
        const draft = await tx.findOne(
          Draft,
          { id, deletedAt: null },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!draft) throw Errors.notFound('Draft');
        if (!abilityFor(ctx).can(action, subject('Draft', { createdBy: draft.createdBy }))) {
          denied = true;
          throw Errors.notFound('Draft');
        }
        return fn(tx, draft);
      });
    } catch (error) {
      if (denied) {
        await this.audit.recordAlone({
          action: 'authorization.denied',
          target: { type: 'Draft', id },
          metadata: {
            permission: permissionForRule(action, 'Draft') ?? null,
            action,
            route,
            role: ctx.role,
            reason: 'not your draft',
          },
        });
      }
      throw error;
    }
  }
}

/** Whether a working copy is the same definition as a published snapshot (object key order aside). */
function sameDefinition(content: DraftContent, published: TemplateDefinition): boolean {
  return CONTENT_FIELDS.every((f) => isDeepStrictEqual(content[f], published[f]));
}
