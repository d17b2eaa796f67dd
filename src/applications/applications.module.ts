import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { CompaniesModule } from '../companies/companies.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { MembersModule } from '../members/members.module.js';
import { ApplicationsController } from './applications.controller.js';
import { ApplicationsService } from './applications.service.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';

/** Applications (service principals) and the OAuth 2.0 client credentials token endpoint. */
@Module({
  imports: [AuthModule, CompaniesModule, MembersModule, IdempotencyModule],
  controllers: [ApplicationsController, OAuthController],
  providers: [ApplicationsService, OAuthService],
})
export class ApplicationsModule {}
