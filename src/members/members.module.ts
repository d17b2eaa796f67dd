import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import { AccessCache } from './access.cache.js';
import { CredentialScopes } from './credential-scopes.js';
import { MembershipsService } from './memberships.service.js';

@Module({
  imports: [UsersModule],
  providers: [MembershipsService, AccessCache, CredentialScopes],
  exports: [MembershipsService, AccessCache, CredentialScopes],
})
export class MembersModule {}
