import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import { AccessCache } from './access.cache.js';
import { MembershipsService } from './memberships.service.js';

@Module({
  imports: [UsersModule],
  providers: [MembershipsService, AccessCache],
  exports: [MembershipsService, AccessCache],
})
export class MembersModule {}
