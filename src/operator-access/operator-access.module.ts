import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { OperatorAccessController, OperatorAccessPlatformController } from './operator-access.controller.js';
import { OperatorAccessService } from './operator-access.service.js';

/** The company's operator access policy and its access requests. Exports the service the switch-in route uses. */
@Module({
  imports: [AuthModule],
  controllers: [OperatorAccessController, OperatorAccessPlatformController],
  providers: [OperatorAccessService],
  exports: [OperatorAccessService],
})
export class OperatorAccessModule {}
