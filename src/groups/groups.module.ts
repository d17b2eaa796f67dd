import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module.js';
import { GroupsController } from './groups.controller.js';
import { GroupsService } from './groups.service.js';

/** Groups: named sets of permissions; registers itself as the access cache's source of a person's groups. */
@Module({
  imports: [MembersModule],
  controllers: [GroupsController],
  providers: [GroupsService],
  exports: [GroupsService],
})
export class GroupsModule {}
