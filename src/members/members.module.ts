import { Module } from '@nestjs/common';
import { ACCESS_RESOLVER, APPLICATION_SCOPES } from '../authz/access-ports.js';
import { UsersModule } from '../users/users.module.js';
import { AccessCache } from './access.cache.js';
import { CredentialScopes } from './credential-scopes.js';
import { MembershipsService } from './memberships.service.js';

@Module({
  imports: [UsersModule],
  providers: [
    MembershipsService,
    AccessCache,
    CredentialScopes,
    { provide: ACCESS_RESOLVER, useExisting: AccessCache },
    { provide: APPLICATION_SCOPES, useExisting: CredentialScopes },
  ],
  exports: [MembershipsService, AccessCache, CredentialScopes, ACCESS_RESOLVER, APPLICATION_SCOPES],
})
export class MembersModule {}
