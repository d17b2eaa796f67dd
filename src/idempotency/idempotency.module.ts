import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { IdempotencyService } from './idempotency.service.js';
import { SealedResponses } from './sealed-response.js';

/** `Idempotency-Key` records; responses kept for a replay are sealed with the keyring of the connectors module. */
@Module({
  imports: [ConnectorsModule, SchedulerModule],
  providers: [IdempotencyService, SealedResponses],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
