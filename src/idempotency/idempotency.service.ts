import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../audit/canonical-json.js';
import { sha256Hex } from '../auth/secrets.js';
import { AppError } from '../common/errors/app-error.js';
import { currentTenant } from '../tenancy/request-store.js';
import { IdempotencyRecord } from './idempotency-record.entity.js';

/** How long a used `Idempotency-Key` is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface IdempotentCreation {
  /** The operation, e.g. `POST /v1/api-keys`. */
  scope: string;
  /** The header's value; undefined when the client sent none (nothing is recorded). */
  key: string | undefined;
  /** The request body (and path parameters) the key stands for. */
  request: unknown;
  resourceType: string;
  resourceId: string;
}

/**
 * `Idempotency-Key` on POSTs that mint a secret (API keys, applications, rotations). The first request with a
 * key creates the resource and records the key in the same transaction; a retry with the same key within 24 h
 * creates nothing and answers **409** with the id of what the first request created (`resourceId`). The original
 * response is deliberately not replayed: it held a secret that is shown once and never stored. A client that lost
 * the first response revokes that resource and creates a new one. Two concurrent requests with one key: the
 * unique index lets one commit; the other answers 409.
 */
@Injectable()
export class IdempotencyService {
  /** Claims the key inside the caller's transaction `tx`, or throws 409 when it was used within the window. */
  async claim(tx: EntityManager, input: IdempotentCreation): Promise<void> {
    if (input.key === undefined) return;
    const principalId = currentTenant().principalId;
    const requestHash = sha256Hex(canonicalJson(input.request));
    const previous = await tx.findOne(IdempotencyRecord, {
      principalId,
      scope: input.scope,
      key: input.key,
    });
    if (previous) {
      if (Date.now() - previous.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) {
        const same = previous.requestHash === requestHash;
        throw new AppError(
          409,
          'CONFLICT',
          same
            ? `This Idempotency-Key was already used (for ${previous.resourceType} ${previous.resourceId}); ` +
                'the secret it produced was shown once and is not shown again: if it was lost, revoke or ' +
                'rotate it'
            : 'This Idempotency-Key was already used for a different request',
          undefined,
          undefined,
          same ? { resourceType: previous.resourceType, resourceId: previous.resourceId } : undefined,
        );
      }
      tx.remove(previous);
      await tx.flush();
    }
    tx.persist(
      new IdempotencyRecord({
        principalId,
        scope: input.scope,
        key: input.key,
        requestHash,
        resourceType: input.resourceType,
        resourceId: input.resourceId,
      }),
    );
  }
}
