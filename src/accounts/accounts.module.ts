import { Module } from '@nestjs/common';
import { CompaniesModule } from '../companies/companies.module.js';
import { MembersModule } from '../members/members.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccountRunBudget } from './account-run-budget.js';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';

/** Accounts: the billing entity above companies, its plan and its directory (src/accounts/accounts.feature.ts). */
@Module({
  imports: [CompaniesModule, MembersModule, UsersModule],
  controllers: [AccountsController],
  providers: [AccountsService, AccountRunBudget],
})
export class AccountsModule {}
