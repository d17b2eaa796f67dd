import { credentialScope } from '../authz/abilities.js';
import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { sha256Hex } from '../auth/secrets.js';
import { roleAtLeast } from '../authz/roles.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { API_KEY_FORMAT, maskApiKey } from './api-key-format.js';
import { ApiKey } from './api-key.entity.js';
import {
  DEFAULT_EXPIRY_DAYS,
  DEFAULT_OVERLAP_HOURS,
  MAX_EXPIRY_DAYS,
  type ApiKeyDto,
  type CreateApiKeyDto,
  type CreatedApiKeyDto,
  type RotateApiKeyDto,
  type RotatedApiKeyDto,
} from './dto/api-keys.dto.js';
import { ApiKeyErrors } from './api-keys.errors.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export function toApiKeyDto(key: ApiKey, now = new Date()): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    permissions: key.permissions ? [...key.permissions] : null,
    maskedKey: maskApiKey(key.last4),
    status: key.statusAt(now),
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    revokedReason: key.revokedReason,
    rotatedFromId: key.rotatedFromId,
    replacedById: key.replacedById,
  };
}

/**
 * API keys of the context's company: created by people (admin+, a role no higher than their own), shown once,
 * stored as a hash, revoked with a reason, rotated with an overlap. Using a key is `ApiKeyAuthenticatorService`.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * Creates a key. With an `Idempotency-Key`, a retry (same key and body, within 24 h) creates nothing and answers
   * the first response again, the secret included (`replayed`): a client that lost the response would otherwise
   * hold a live key it never saw. That response is kept sealed under the company's data key, and forgotten when
   * the window ends or the key is revoked or rotated (a retry then answers 409 naming the key).
   */
  async create(
    ctx: TenantContext,
    dto: CreateApiKeyDto,
    idempotencyKey: string | undefined,
  ): Promise<{ created: CreatedApiKeyDto; replayed: boolean }> {
    const creator = ctx.principalType === 'user' ? ctx.userId : undefined;
    if (!creator) throw ApiKeyErrors.CreatorNotAPerson();
    if (!roleAtLeast(ctx.role, dto.role)) {
      throw ApiKeyErrors.RoleAboveOwn(ctx.role);
    }
    const expiresAt =
      dto.expiresInDays === null
        ? null
        : new Date(Date.now() + (dto.expiresInDays ?? DEFAULT_EXPIRY_DAYS) * DAY_MS);
    const permissions = credentialScope(ctx, dto.permissions, dto.role);
    const raw = API_KEY_FORMAT.mint();
    const key = new ApiKey({
      name: dto.name,
      role: dto.role,
      keyHash: sha256Hex(raw),
      last4: raw.slice(-4),
      createdBy: creator,
      expiresAt,
    });
    key.permissions = permissions;
    const created: CreatedApiKeyDto = { ...toApiKeyDto(key), key: raw };
    return this.em.transactional(async (tx) => {
      const first = await this.idempotency.claimOrReplayResponse(
        tx,
        {
          scope: 'POST /v1/api-keys',
          key: idempotencyKey,
          request: dto,
          resourceType: 'ApiKey',
          resourceId: key.id,
        },
        created,
      );
      if (first) return { created: first, replayed: true };
      tx.persist(key);
      await this.audit.record(
        {
          action: 'api_key.created',
          target: { type: 'ApiKey', id: key.id },
          metadata: { name: key.name, role: key.role, expiresAt: expiresAt?.toISOString() ?? null },
        },
        tx,
      );
      return { created, replayed: false };
    });
  }

  async list(query: PageQueryDto): Promise<Page<ApiKeyDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(ApiKey, page.where, page.options);
    const now = new Date();
    return toPage(rows, page.limit, (k) => toApiKeyDto(k, now));
  }

  async get(id: string): Promise<ApiKeyDto> {
    return toApiKeyDto(await this.load(this.em, id));
  }

  /**
   * Revokes a key at once, with a reason (audited). Any admin may revoke any key of the company, whatever its
   * role: taking authority away needs none. Revoking a revoked key changes nothing and answers its state.
   */
  async revoke(ctx: TenantContext, id: string, reason: string): Promise<ApiKeyDto> {
    return this.em.transactional(async (tx) => {
      const key = await this.load(tx, id, true);
      if (key.revokedAt) return toApiKeyDto(key);
      key.revokedAt = new Date();
      key.revokedReason = reason;
      key.revokedBy = ctx.actingUserId;
      // A retry of its creation must not hand its secret out again.
      await this.idempotency.forgetResponses(tx, 'ApiKey', key.id);
      await this.audit.record(
        { action: 'api_key.revoked', target: { type: 'ApiKey', id: key.id }, metadata: { reason } },
        tx,
      );
      return toApiKeyDto(key);
    });
  }

  /**
   * Rotation: a new key with the old one's name and role, and the old one kept valid for `overlapHours` (never
   * longer than it already was). The new key's lifetime is the old key's original lifetime, starting now. Its
   * authority is the rotating user's: they hold the new secret, so they become its creator, and they may not
   * rotate a key whose role is above their own (answered like a missing key, and audited). A key rotates once;
   * a revoked or expired key does not rotate (409).
   */
  async rotate(
    ctx: TenantContext,
    id: string,
    dto: RotateApiKeyDto,
    idempotencyKey: string | undefined,
  ): Promise<RotatedApiKeyDto> {
    const rotator = ctx.principalType === 'user' ? ctx.userId : undefined;
    const existing = await this.load(this.em, id);
    if (!rotator || !roleAtLeast(ctx.role, existing.role)) {
      await this.audit.recordAlone({
        action: 'authorization.denied',
        target: { type: 'ApiKey', id },
        metadata: {
          permission: 'api-keys:write',
          action: 'rotate',
          route: 'POST /v1/api-keys/:id/rotate',
          role: ctx.role,
          reason: rotator
            ? `a ${ctx.role} may not rotate a ${existing.role} key`
            : 'credentials do not rotate keys',
        },
      });
      throw Errors.notFound('ApiKey');
    }
    const overlapHours = dto.overlapHours ?? DEFAULT_OVERLAP_HOURS;
    const raw = API_KEY_FORMAT.mint();
    return this.em.transactional(async (tx) => {
      // The row lock serialises concurrent rotations of one key: the second sees `replacedById` and answers 409.
      const old = await this.load(tx, id, true);
      const now = new Date();
      if (old.statusAt(now) !== 'active') throw ApiKeyErrors.NotActive();
      if (old.replacedById) {
        throw ApiKeyErrors.AlreadyRotated(old.replacedById);
      }
      const lifetime = old.expiresAt
        ? Math.min(old.expiresAt.getTime() - old.createdAt.getTime(), MAX_EXPIRY_DAYS * DAY_MS)
        : null;
      const key = new ApiKey({
        name: old.name,
        role: old.role,
        keyHash: sha256Hex(raw),
        last4: raw.slice(-4),
        createdBy: rotator,
        expiresAt: lifetime === null ? null : new Date(now.getTime() + lifetime),
        rotatedFromId: old.id,
      });
      key.permissions = old.permissions ? [...old.permissions] : null;
      const overlapEnd = new Date(now.getTime() + overlapHours * HOUR_MS);
      old.expiresAt = old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
      old.replacedById = key.id;
      // The old key is being retired: a retry of its creation no longer hands its secret out.
      await this.idempotency.forgetResponses(tx, 'ApiKey', old.id);
      await this.idempotency.claim(tx, {
        scope: 'POST /v1/api-keys/{id}/rotate',
        key: idempotencyKey,
        request: { id, ...dto },
        resourceType: 'ApiKey',
        resourceId: key.id,
      });
      tx.persist(key);
      await this.audit.record(
        {
          action: 'api_key.created',
          target: { type: 'ApiKey', id: key.id },
          metadata: {
            name: key.name,
            role: key.role,
            expiresAt: key.expiresAt?.toISOString() ?? null,
            rotatedFromId: old.id,
          },
        },
        tx,
      );
      await this.audit.record(
        {
          action: 'api_key.rotated',
          target: { type: 'ApiKey', id: old.id },
          metadata: { newKeyId: key.id, overlapHours, previousExpiresAt: old.expiresAt.toISOString() },
        },
        tx,
      );
      return { ...toApiKeyDto(key, now), key: raw, previous: toApiKeyDto(old, now) };
    });
  }

  private async load(em: EntityManager, id: string, lock = false): Promise<ApiKey> {
    const key = await em.findOne(
      ApiKey,
      { id },
      lock ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
    );
    if (!key) throw Errors.notFound('ApiKey');
    return key;
  }
}
