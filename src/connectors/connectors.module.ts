import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { AddressPolicy } from './address-policy.js';
import { ConnectorCaller } from './connector-caller.service.js';
import { CONNECTOR_INVOKER } from './connector-invoker.js';
import { ConnectorsController } from './connectors.controller.js';
import { ConnectorsService } from './connectors.service.js';
import { OutboundHttp } from './outbound-http.js';

/**
 * Connectors: CRUD with write-only secrets (envelope encryption), and the outbound calls runs make through
 * `CONNECTOR_INVOKER` (the runs ↔ connectors contract in connector-invoker.ts).
 */
@Module({
  imports: [CryptoModule],
  controllers: [ConnectorsController],
  providers: [
    ConnectorsService,
    ConnectorCaller,
    {
      provide: AddressPolicy,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new AddressPolicy({
          allowedHosts: config.connectors.allowedHosts,
          requireHttps: config.isProduction,
        }),
    },
    {
      provide: OutboundHttp,
      inject: [AddressPolicy],
      useFactory: (policy: AddressPolicy) => new OutboundHttp(policy),
    },
    { provide: CONNECTOR_INVOKER, useExisting: ConnectorCaller },
  ],
  exports: [CONNECTOR_INVOKER, ConnectorsService],
})
export class ConnectorsModule {}
