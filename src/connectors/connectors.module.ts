import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AddressPolicy } from './address-policy.js';
import { ConnectorCaller } from './connector-caller.service.js';
import { CONNECTOR_INVOKER } from './connector-invoker.js';
import { ConnectorsController } from './connectors.controller.js';
import { ConnectorsService } from './connectors.service.js';
import { KeyringService } from './keyring.service.js';
import { OutboundHttp } from './outbound-http.js';

/**
 * Connectors: CRUD with write-only secrets (envelope encryption), and the outbound calls runs make through
 * `CONNECTOR_INVOKER` (the runs ↔ connectors contract in connector-invoker.ts).
 */
@Module({
  controllers: [ConnectorsController],
  providers: [
    ConnectorsService,
    ConnectorCaller,
    KeyringService,
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
  // KeyringService: the idempotency module seals the API-key responses it keeps for a replay with it.
  exports: [CONNECTOR_INVOKER, ConnectorsService, KeyringService],
})
export class ConnectorsModule {}
