import { Module } from '@nestjs/common';
import { COMPANY_RUNTIME_SETTINGS } from '../authz/access-ports.js';
import { ListingsModule } from '../listings/listings.module.js';
import { MembersModule } from '../members/members.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { CompaniesController } from './companies.controller.js';
import { CompaniesService } from './companies.service.js';
import { CompanyAdminService } from './company-admin.service.js';
import { CompanyPurgeService } from './company-purge.service.js';
import { CompanySettingsCache } from './company-settings.cache.js';

@Module({
  // RunsModule: a new `maxConcurrentRuns` moves the company's waiting run jobs to its tier (`RunQueue.retier`).
  // ListingsModule: scheduling deletion withdraws the company's community listings (restoring offers them again).
  imports: [MembersModule, SchedulerModule, RunsModule, ListingsModule],
  controllers: [CompaniesController],
  providers: [
    CompaniesService,
    CompanySettingsCache,
    CompanyAdminService,
    CompanyPurgeService,
    { provide: COMPANY_RUNTIME_SETTINGS, useExisting: CompanySettingsCache },
  ],
  exports: [CompaniesService, CompanyPurgeService, COMPANY_RUNTIME_SETTINGS],
})
export class CompaniesModule {}
