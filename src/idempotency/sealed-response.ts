import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { KeyringService } from '../crypto/keyring.service.js';
import { AAD } from '../crypto/secret-box.js';
import type { IdempotencyRecord } from './idempotency-record.entity.js';

/**
 * Seals a response kept for an idempotent replay under the company's data key (envelope encryption: the
 * keyring's data key, itself wrapped by the master key), bound by its AAD to its company and record: it opens
 * for this record only, never as a connector's secret, and not in another company.
 */
@Injectable()
export class SealedResponses {
  constructor(private readonly keyring: KeyringService) {}

  /** Seals `plaintext` for `record` inside the caller's transaction (creating the company's data key if needed). */
  seal(tx: EntityManager, record: IdempotencyRecord, plaintext: string): Promise<string> {
    return this.keyring.sealValue(tx, AAD.idempotencyResponse(record.companyId, record.id), plaintext);
  }

  /** The plaintext of `sealed`, the sealed response of `record`. */
  open(em: EntityManager, record: IdempotencyRecord, sealed: string): Promise<string> {
    return this.keyring.openValue(
      em,
      AAD.idempotencyResponse(record.companyId, record.id),
      sealed,
      `the kept response of idempotency record ${record.id}`,
    );
  }
}
