import { Module } from '@nestjs/common';
import { CompaniesService } from './companies.service.js';
import { CompanySettingsCache } from './company-settings.cache.js';

@Module({
  providers: [CompaniesService, CompanySettingsCache],
  exports: [CompaniesService, CompanySettingsCache],
})
export class CompaniesModule {}
