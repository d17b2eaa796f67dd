import { Inject, Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ServiceUnavailableError } from '../common/errors/service-unavailable.js';
import { currentTenant } from '../tenancy/request-store.js';
import { CompanyKey } from './company-key.entity.js';
import { AAD, masterKeyId, newDataKey, open, seal, SecretBoxError } from './secret-box.js';

/**
 * A stored secret that cannot be decrypted: a server fault (wrong master key, tampered row), never the caller's.
 * Answered 503 (`ServiceUnavailableError`); the message, which names keys and rows, goes to the logs only.
 * `transient` when the process merely holds another master key than the one wrapping the company's data key (a
 * stale or wrong `TENANTRY_MASTER_KEY`, e.g. during a rotation): another process, or this one restarted with the
 * right key, can decrypt it, so work that needs the secret waits rather than fails. Otherwise the stored key or
 * ciphertext itself is damaged and no process will ever decrypt it.
 */
export class SecretUnavailableError extends ServiceUnavailableError {
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

/** A row holding one sealed secret (a connector): the AAD binds its ciphertext to its company and id. */
export interface SecretHolder {
  readonly companyId: string;
  readonly id: string;
  readonly secretCiphertext: string | null;
}

/**
 * Envelope encryption of connector secrets. Each company has one random data key, created lazily with its first
 * secret and stored wrapped by the master key (AAD = company id). A secret is sealed under its company's data
 * key with AAD = company id + connector id. Everything runs in the current tenant context, so the ORM filter and
 * row-level security both scope the key row to the caller's company. Plaintext keys live only for the duration
 * of one call and are zeroed afterwards.
 */
@Injectable()
export class KeyringService {
  private readonly masterKey: Buffer;
  readonly masterKeyId: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.masterKey = config.masterKey;
    this.masterKeyId = masterKeyId(config.masterKey);
  }

  /** Encrypts a connector's secret (inside the caller's transaction), creating the company's data key if needed. */
  sealSecret(tx: EntityManager, connector: SecretHolder, secret: string): Promise<string> {
    return this.sealValue(tx, AAD.connectorSecret(connector.companyId, connector.id), secret);
  }

  /** Decrypts a connector's secret; `null` when it has none. */
  async openSecret(em: EntityManager, connector: SecretHolder): Promise<string | null> {
    if (connector.secretCiphertext === null) return null;
    return this.openValue(
      em,
      AAD.connectorSecret(connector.companyId, connector.id),
      connector.secretCiphertext,
      `the secret of connector ${connector.id}`,
    );
  }

  /**
   * Encrypts `plaintext` under the current company's data key (inside the caller's transaction, creating the key
   * if needed), bound to `aad` (one of `AAD`'s: what the value is and where it belongs, so that it decrypts there
   * only).
   */
  async sealValue(tx: EntityManager, aad: string, plaintext: string): Promise<string> {
    const dataKey = (await this.dataKey(tx)) ?? (await this.createDataKey(tx));
    try {
      return seal(dataKey, Buffer.from(plaintext, 'utf8'), aad);
    } finally {
      dataKey.fill(0);
    }
  }

  /** Decrypts a value sealed by `sealValue` with the same `aad`; `what` names it in the (logged) error. */
  async openValue(em: EntityManager, aad: string, sealed: string, what = 'a sealed value'): Promise<string> {
    const dataKey = await this.dataKey(em);
    if (!dataKey) throw new SecretUnavailableError(`The company has ${what} but no data key`);
    try {
      return open(dataKey, sealed, aad).toString('utf8');
    } catch (e) {
      if (e instanceof SecretBoxError) {
        throw new SecretUnavailableError(`${what[0].toUpperCase()}${what.slice(1)} does not decrypt`);
      }
      throw e;
    } finally {
      dataKey.fill(0);
    }
  }

  /** The company's data key in plaintext (the caller zeroes it), or null when it has none yet. */
  private async dataKey(em: EntityManager): Promise<Buffer | null> {
    const companyId = currentTenant().companyId;
    const row = await em.findOne(CompanyKey, { companyId });
    if (!row) return null;
    if (row.masterKeyId !== this.masterKeyId) {
      throw new SecretUnavailableError(
        `The data key of company ${companyId} is wrapped by master key ${row.masterKeyId}, but the configured ` +
          `TENANTRY_MASTER_KEY is ${this.masterKeyId}: start with the key the last rotation installed`,
        true,
      );
    }
    try {
      return open(this.masterKey, row.wrappedKey, AAD.dataKey(companyId));
    } catch (e) {
      if (e instanceof SecretBoxError) {
        throw new SecretUnavailableError(`The data key of company ${companyId} does not unwrap`);
      }
      throw e;
    }
  }

  /**
   * Creates the company's data key inside a savepoint of the caller's transaction. Two first secrets written at
   * once race on the unique company index: the loser's savepoint rolls back and it reads the winner's key.
   */
  private async createDataKey(tx: EntityManager): Promise<Buffer> {
    const companyId = currentTenant().companyId;
    const dataKey = newDataKey();
    try {
      await tx.transactional(async (inner) => {
        inner.persist(
          new CompanyKey(seal(this.masterKey, dataKey, AAD.dataKey(companyId)), this.masterKeyId),
        );
      });
      return dataKey;
    } catch (e) {
      dataKey.fill(0);
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
    }
    const winner = await this.dataKey(tx);
    if (!winner) throw new SecretUnavailableError('The company data key vanished while it was being created');
    return winner;
  }
}
