import { Module } from '@nestjs/common';
import { API_KEY_AUTHENTICATOR } from '../authz/api-key-authenticator.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { MembersModule } from '../members/members.module.js';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder.js';
import { ApiKeyAuthenticatorService } from './api-key.authenticator.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * API keys. Exports `API_KEY_AUTHENTICATOR`, which the global guard (an APP_GUARD resolved in AppModule, which
 * imports this module) injects to accept `Authorization: Bearer sk_live_…`.
 */
@Module({
  imports: [MembersModule, IdempotencyModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysService,
    ApiKeyUsageRecorder,
    ApiKeyAuthenticatorService,
    { provide: API_KEY_AUTHENTICATOR, useExisting: ApiKeyAuthenticatorService },
  ],
  exports: [API_KEY_AUTHENTICATOR, ApiKeyUsageRecorder],
})
export class ApiKeysModule {}
