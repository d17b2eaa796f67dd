import { Global, Module } from '@nestjs/common';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { AuditExportService } from './audit-export.job.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/**
 * Global: every module records its changes through `AuditService`. Admins read, verify and export the trail; the
 * scheduled export (`AuditExportService`) writes it to AUDIT_EXPORT_URL incrementally.
 */
@Global()
@Module({
  imports: [SchedulerModule],
  controllers: [AuditController],
  providers: [AuditService, AuditQueryService, AuditExportService],
  exports: [AuditService],
})
export class AuditModule {}
