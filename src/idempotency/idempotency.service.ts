import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
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

const differentRequest = () =>
  new AppError(409, 'CONFLICT', 'This Idempotency-Key was already used for a different request');

/**
 * `Idempotency-Key` on creating POSTs. The first request with a key creates the resource and records the key in
 * the same transaction; what a retry with the same key within 24 h gets depends on the operation:
 *
 * - `claim` (POSTs that mint a secret: API keys, applications, rotations): **409** with the id of what the first
 *   request created (`resourceId`). The original response is deliberately not replayed: it held a secret that
 *   is shown once and never stored. Two concurrent requests with one key: the unique index lets one commit; the
 *   other answers 409.
 * - `claimOrReplay` (POSTs whose response can be rebuilt, such as starting a run): the id of what the first
 *   request created, for the caller to answer as it did the first time. Two concurrent requests with one key
 *   create one resource: the second waits for the first and then replays it.
 *
 * Either way, the same key with a different body answers 409.
 */
@Injectable()
export class IdempotencyService {
  /** Claims the key inside the caller's transaction `tx`, or throws 409 when it was used within the window. */
  async claim(tx: EntityManager, input: IdempotentCreation): Promise<void> {
    if (input.key === undefined) return;
    const requestHash = sha256Hex(canonicalJson(input.request));
    const previous = await this.previous(tx, input.scope, input.key);
    if (previous) {
      if (previous.requestHash !== requestHash) throw differentRequest();
      throw new AppError(
        409,
        'CONFLICT',
        `This Idempotency-Key was already used (for ${previous.resourceType} ${previous.resourceId}); ` +
          'the secret it produced was shown once and is not shown again: if it was lost, revoke or ' +
          'rotate it',
        undefined,
        undefined,
        { resourceType: previous.resourceType, resourceId: previous.resourceId },
      );
    }
    tx.persist(this.record(input, requestHash));
  }

  /**
   * Returns the id of what the first request with this key created when this is its retry (same key, same
   * request, within 24 h); throws 409 when the key was used for a different request; otherwise records the key
   * for `input.resourceId` in `tx` and returns undefined. The record is written at once, in a savepoint: a
   * concurrent request holding the same key makes this wait for it, then replay what it created (or, if it
   * rolled back, go on with this one).
   */
  async claimOrReplay(tx: EntityManager, input: IdempotentCreation): Promise<string | undefined> {
    if (input.key === undefined) return undefined;
    const key = input.key;
    const requestHash = sha256Hex(canonicalJson(input.request));
    const replay = async (): Promise<string | undefined> => {
      const previous = await this.previous(tx, input.scope, key);
      if (!previous) return undefined;
      if (previous.requestHash !== requestHash) throw differentRequest();
      return previous.resourceId;
    };
    const replayed = await replay();
    if (replayed !== undefined) return replayed;
    try {
      await tx.transactional(async (savepoint) => {
        savepoint.persist(this.record(input, requestHash));
        await savepoint.flush();
      });
      return undefined;
    } catch (e) {
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
      // Another request with this key committed first (this insert waited for it): answer what it created.
      const winner = await replay();
      if (winner === undefined) throw e;
      return winner;
    }
  }

  /** The live record of this principal's key for `scope`; an expired one is removed (the key is free again). */
  private async previous(tx: EntityManager, scope: string, key: string): Promise<IdempotencyRecord | null> {
    const principalId = currentTenant().principalId;
    const previous = await tx.findOne(IdempotencyRecord, { principalId, scope, key }, { refresh: true });
    if (!previous) return null;
    if (Date.now() - previous.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) return previous;
    tx.remove(previous);
    await tx.flush();
    return null;
  }

  private record(input: IdempotentCreation, requestHash: string): IdempotencyRecord {
    return new IdempotencyRecord({
      principalId: currentTenant().principalId,
      scope: input.scope,
      key: input.key!,
      requestHash,
      resourceType: input.resourceType,
      resourceId: input.resourceId,
    });
  }
}
