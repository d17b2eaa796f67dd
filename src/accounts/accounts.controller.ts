import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { AccountsService } from './accounts.service.js';
import {
  AccountCompanyDto,
  AccountDto,
  AccountOwnerDto,
  AccountUsageDto,
  CreateAccountCompanyDto,
  TransferAccountOwnershipDto,
} from './dto/account.dto.js';

const NOT_OWNER = 'The caller is not the owner of the account of its company (FORBIDDEN)';

/**
 * The account (billing entity) above the caller's company, for its owner only: directory metadata and counts,
 * never a company's data. The account is the one of the company of the credential.
 */
@ApiTags('Accounts')
@Controller('v1/account')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @Authorize('read', 'BillingAccount', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Account_get',
    summary: "The account of the caller's company: plan, limits and its companies (account owner)",
  })
  @ApiOkResponse({ type: AccountDto })
  @ProblemResponse(403, NOT_OWNER)
  get(@Tenant() tenant: TenantContext): Promise<AccountDto> {
    return this.accounts.get(tenant);
  }

  @Post('companies')
  @Authorize('create', 'BillingAccount', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Account_createCompany',
    summary: 'A new company of the account, the caller its owner (account owner); switch to it to act in it',
  })
  @ApiCreatedResponse({ type: AccountCompanyDto })
  @ProblemResponse(403, NOT_OWNER)
  @ProblemResponse(409, "The plan's maxCompanies is reached (CONFLICT)")
  createCompany(
    @Tenant() tenant: TenantContext,
    @Body() dto: CreateAccountCompanyDto,
  ): Promise<AccountCompanyDto> {
    return this.accounts.createCompany(tenant, dto);
  }

  @Get('usage')
  @Authorize('read', 'BillingAccount', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Account_usage',
    summary: 'Per company: runs this month and members; totals against the plan (account owner)',
  })
  @ApiOkResponse({ type: AccountUsageDto })
  @ProblemResponse(403, NOT_OWNER)
  usage(@Tenant() tenant: TenantContext): Promise<AccountUsageDto> {
    return this.accounts.usage(tenant);
  }

  @Post('ownership-transfer')
  @HttpCode(200)
  @Authorize('transfer', 'BillingAccount', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Account_transferOwnership',
    summary: 'Hand the account to a member of one of its companies (account owner)',
  })
  @ApiOkResponse({ type: AccountOwnerDto })
  @ProblemResponse(403, NOT_OWNER)
  transferOwnership(
    @Tenant() tenant: TenantContext,
    @Body() dto: TransferAccountOwnershipDto,
  ): Promise<AccountOwnerDto> {
    return this.accounts.transferOwnership(tenant, dto);
  }
}
