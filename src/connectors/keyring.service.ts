import { Inject, Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { currentTenant } from '../tenancy/request-store.js';
import { CompanyKey } from './company-key.entity.js';
import type { Connector } from './connector.entity.js';
import { AAD, masterKeyId, newDataKey, open, seal, SecretBoxError } from './secret-box.js';

/** A stored secret that cannot be decrypted: a server fault (wrong master key, tampered row), never the caller's. */
export class SecretUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
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
  async sealSecret(tx: EntityManager, connector: Connector, secret: string): Promise<string> {
    const dataKey = (await this.dataKey(tx)) ?? (await this.createDataKey(tx));
    try {
      return seal(
        dataKey,
        Buffer.from(secret, 'utf8'),
        AAD.connectorSecret(connector.companyId, connector.id),
      );
    } finally {
      dataKey.fill(0);
    }
  }

  /** Decrypts a connector's secret; `null` when it has none. */
  async openSecret(em: EntityManager, connector: Connector): Promise<string | null> {
    if (connector.secretCiphertext === null) return null;
    const dataKey = await this.dataKey(em);
    if (!dataKey) throw new SecretUnavailableError('The company has a sealed secret but no data key');
    try {
      return open(
        dataKey,
        connector.secretCiphertext,
        AAD.connectorSecret(connector.companyId, connector.id),
      ).toString('utf8');
    } catch (e) {
      if (e instanceof SecretBoxError) {
        throw new SecretUnavailableError(`The secret of connector ${connector.id} does not decrypt`);
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
