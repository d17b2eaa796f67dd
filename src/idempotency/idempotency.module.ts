import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { IdempotencyService } from './idempotency.service.js';
import { SealedResponses } from './sealed-response.js';

/** `Idempotency-Key` records; responses kept for a replay are sealed with the company's keyring (crypto/). */
@Module({
  imports: [CryptoModule, SchedulerModule],
  providers: [IdempotencyService, SealedResponses],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
