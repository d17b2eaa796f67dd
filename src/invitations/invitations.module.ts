import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { CompaniesModule } from '../companies/companies.module.js';
import { MailModule } from '../mail/mail.module.js';
import { MembersModule } from '../members/members.module.js';
import { UsersModule } from '../users/users.module.js';
import { InvitationAcceptPageController } from './accept-page.controller.js';
import { InvitationsController } from './invitations.controller.js';
import { InvitationAcceptance } from './invitation-acceptance.service.js';
import { InvitationsService } from './invitations.service.js';

@Module({
  imports: [AuthModule, CompaniesModule, MembersModule, UsersModule, MailModule],
  controllers: [InvitationsController, InvitationAcceptPageController],
  providers: [InvitationsService, InvitationAcceptance],
})
export class InvitationsModule {}
