import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CompanyWriteGate, WRITE_GATE } from './company-write-gate.js';
import { ScopedReader } from './scoped-reader.js';
import { TenancyService } from './tenancy.service.js';
import { WriteSlots } from './write-slots.js';

@Global()
@Module({
  providers: [
    TenancyService,
    ScopedReader,
    WriteSlots,
    {
      provide: WRITE_GATE,
      inject: [APP_CONFIG],
      // Half the pool per company: one company's queued writers never hold every connection.
      useFactory: (config: AppConfig) =>
        new CompanyWriteGate(Math.max(1, Math.floor(config.database.poolMax / 2))),
    },
  ],
  exports: [TenancyService, ScopedReader, WriteSlots, WRITE_GATE],
})
export class TenancyModule {}
