import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../audit/canonical-json.js';
import { sha256Hex } from '../auth/secrets.js';
import { companyIdsAfter } from '../companies/companies.service.js';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { currentTenant, systemContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { IdempotencyRecord } from './idempotency-record.entity.js';
import { SealedResponses } from './sealed-response.js';
import { IdempotencyErrors } from './idempotency.errors.js';

/** How long a used `Idempotency-Key` is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** How often expired records (and the sealed responses they hold) are deleted: at most this long past the window. */
const PURGE_EVERY_MS = 3_600_000;
const PURGE_BATCH = 500;

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
 * - `claimOrReplayResponse` (POSTs whose response holds a secret the client cannot get any other way: creating
 *   an API key): the first response itself, kept sealed under the company's data key for the window, and
 *   deleted earlier when what it names is retired (`forgetResponses`). Concurrent requests behave as above.
 *
 * Either way, the same key with a different body answers 409. Expired records are deleted by `purgeExpired`
 * (hourly, where the scheduler runs) and, lazily, when their key is used again.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly tenancy: TenancyService,
    private readonly scheduler: Scheduler,
    private readonly responses: SealedResponses,
  ) {}

  onModuleInit(): void {
    this.scheduler.register('idempotency.purge', PURGE_EVERY_MS, () => this.purgeExpired());
  }

  /** Claims the key inside the caller's transaction `tx`, or throws 409 when it was used within the window. */
  async claim(tx: EntityManager, input: IdempotentCreation): Promise<void> {
    if (input.key === undefined) return;
    const requestHash = sha256Hex(canonicalJson(input.request));
    const previous = await this.previous(tx, input.scope, input.key);
    if (previous) {
      if (previous.requestHash !== requestHash) throw IdempotencyErrors.OtherRequest();
      throw IdempotencyErrors.AlreadyUsed(previous);
    }
    tx.persist(this.record(input, requestHash));
  }

  /**
   * Returns the first response when this is a retry (same key, same request, within the window), opened from
   * its sealed copy; throws 409 when the key was used for a different request, or when the sealed copy is gone
   * because the resource was retired since (naming the resource, as `claim` does). Otherwise records the key
   * with `response` sealed, in a savepoint of `tx`, and returns undefined: the caller then creates what
   * `response` describes in the same transaction. A concurrent request with the same key waits for this one,
   * then replays its response (or, if it rolled back, goes on with its own).
   */
  async claimOrReplayResponse<T extends object>(
    tx: EntityManager,
    input: IdempotentCreation,
    response: T,
  ): Promise<T | undefined> {
    if (input.key === undefined) return undefined;
    const key = input.key;
    const requestHash = sha256Hex(canonicalJson(input.request));
    const replay = async (): Promise<T | undefined> => {
      const previous = await this.previous(tx, input.scope, key);
      if (!previous) return undefined;
      if (previous.requestHash !== requestHash) throw IdempotencyErrors.OtherRequest();
      const sealed = previous.sealedResponse;
      if (sealed === null) throw IdempotencyErrors.AlreadyUsed(previous);
      return JSON.parse(await this.responses.open(tx, previous, sealed)) as T;
    };
    return this.recordOrReplay(tx, replay, async () => {
      const record = this.record(input, requestHash);
      record.sealedResponse = await this.responses.seal(tx, record, JSON.stringify(response));
      return record;
    });
  }

  /**
   * Deletes the sealed responses that name a resource being retired (a revoked or rotated API key), in the
   * caller's transaction: a retry of its creation then answers 409 instead of handing out its secret again.
   */
  async forgetResponses(tx: EntityManager, resourceType: string, resourceId: string): Promise<void> {
    await tx.nativeUpdate(
      IdempotencyRecord,
      { resourceType, resourceId, sealedResponse: { $ne: null } },
      { sealedResponse: null },
    );
  }

  /**
   * Deletes every record older than the window, sealed responses included, company by company: the registry
   * lists the companies, and each company's records are deleted inside that company's own context (no statement
   * spans companies). Returns how many records went.
   */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
    let purged = 0;
    for (let after: string | null = null; ;) {
      const from: string | null = after;
      const ids: string[] = await this.tenancy.unscoped(Unscoped.Directory, (registry) =>
        companyIdsAfter(registry, from, PURGE_BATCH),
      );
      for (const companyId of ids) {
        try {
          purged += await this.tenancy.run(systemContext(companyId), (em) =>
            em.transactional((tx) => tx.nativeDelete(IdempotencyRecord, { createdAt: { $lt: cutoff } })),
          );
        } catch (error) {
          this.logger.warn(`Could not purge idempotency records of company ${companyId}: ${String(error)}`);
        }
      }
      if (ids.length < PURGE_BATCH) return purged;
      after = ids[ids.length - 1];
    }
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
      if (previous.requestHash !== requestHash) throw IdempotencyErrors.OtherRequest();
      return previous.resourceId;
    };
    return this.recordOrReplay(tx, replay, async () => this.record(input, requestHash));
  }

  /**
   * What `replay` answers when this is a retry; otherwise records the key (the record `make` builds) at once, in a
   * savepoint of `tx`, and returns undefined. A concurrent request holding the same key makes the insert wait for
   * it: if it committed, the unique key refuses this one and `replay` answers what it created.
   */
  private async recordOrReplay<T>(
    tx: EntityManager,
    replay: () => Promise<T | undefined>,
    make: () => Promise<IdempotencyRecord>,
  ): Promise<T | undefined> {
    const replayed = await replay();
    if (replayed !== undefined) return replayed;
    const record = await make();
    try {
      await tx.transactional(async (savepoint) => {
        savepoint.persist(record);
        await savepoint.flush();
      });
      return undefined;
    } catch (e) {
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
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
