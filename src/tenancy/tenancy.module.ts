import { Global, Module } from '@nestjs/common';
import { ScopedReader } from './scoped-reader.js';
import { TenancyService } from './tenancy.service.js';

@Global()
@Module({ providers: [TenancyService, ScopedReader], exports: [TenancyService, ScopedReader] })
export class TenancyModule {}
