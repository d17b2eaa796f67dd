import { Module } from '@nestjs/common';
import { KeyringService } from './keyring.service.js';

/**
 * The keyring: the master key (from configuration) wraps one data key per company, which seals the company's
 * secrets (connector secrets, the API-key responses idempotency keeps for a replay). Features that seal or open a
 * secret import this module; it depends on no feature.
 */
@Module({ providers: [KeyringService], exports: [KeyringService] })
export class CryptoModule {}
