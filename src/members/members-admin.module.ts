import { Module } from '@nestjs/common';
import { PermissionsController } from '../authz/permissions.controller.js';
import { AuthModule } from '../auth/auth.module.js';
import { BoardsModule } from '../boards/boards.module.js';
import { UsersModule } from '../users/users.module.js';
import { MembersController } from './members.controller.js';
import { MembersModule } from './members.module.js';
import { MembersService } from './members.service.js';

/**
 * The members API (list, role changes, removal, ownership transfer). Separate from `MembersModule`, which the
 * auth module imports for memberships, because removing a member revokes sessions through `AuthService`.
 */
@Module({
  imports: [MembersModule, UsersModule, AuthModule, BoardsModule],
  controllers: [MembersController, PermissionsController],
  providers: [MembersService],
})
export class MembersAdminModule {}
