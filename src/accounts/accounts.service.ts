import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { CompaniesService } from '../companies/companies.service.js';
import { Company } from '../companies/company.entity.js';
import { Errors } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { limitsOf, planLabel, type PlanLimits, type Plans } from '../config/plans.js';
import { Membership } from '../members/membership.entity.js';
import { MembershipsService } from '../members/memberships.service.js';
import { RunBudgetUsage } from '../runs/run-budget-usage.entity.js';
import { monthOf } from '../runs/run-budget.js';
import { systemContext, userContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { UsersService } from '../users/users.service.js';
import { AccountRunBudget } from './account-run-budget.js';
import { Account } from './account.entity.js';
import type {
  AccountCompanyDto,
  AccountDto,
  AccountOwnerDto,
  AccountUsageDto,
  CompanyUsageDto,
  CreateAccountCompanyDto,
  TransferAccountOwnershipDto,
} from './dto/account.dto.js';
import { AccountErrors } from './accounts.errors.js';

const limitsDto = (limits: PlanLimits) => ({
  maxCompanies: limits.maxCompanies,
  maxMembersPerCompany: limits.maxMembersPerCompany,
  monthlyRunBudget: limits.monthlyRunBudget,
});

/** Locks the account row `FOR UPDATE` in `tx`: serialises company creation (the exact cap), transfer and plan. */
function lockAccount(tx: EntityManager, id: string): Promise<Account | null> {
  return tx.findOne(Account, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
}

/**
 * Sets the plan of an account (the CLI's `account plan`; there is no API for it), audited as
 * `account.plan_changed` in each of the account's companies' trails, in the change's transaction.
 */
export async function setAccountPlan(
  tenancy: TenancyService,
  audit: AuditService,
  plans: Plans,
  accountId: string,
  plan: string,
): Promise<{ from: string; to: string; companies: number }> {
  if (!plans[plan]) {
    throw AccountErrors.UnknownPlan(plan, Object.keys(plans));
  }
  return tenancy.unscoped(Unscoped.Account, (em) =>
    em.transactional(async (tx) => {
      const account = await lockAccount(tx, accountId);
      if (!account) throw Errors.notFound('Account');
      const from = account.plan;
      account.plan = plan;
      const companies = await tx.find(Company, { accountId }, { fields: ['id'], orderBy: { id: 'asc' } });
      for (const company of companies) {
        await tenancy.inCompany(tx, systemContext(company.id, 'cli'), () =>
          audit.record(
            {
              action: 'account.plan_changed',
              target: { type: 'Account', id: accountId },
              metadata: { from, to: plan, limits: limitsDto(limitsOf(plans, plan)) },
            },
            tx,
          ),
        );
      }
      return { from, to: plan, companies: companies.length };
    }),
  );
}

/**
 * The account above the caller's company, for its owner: the directory of its companies and their counts,
 * new companies, ownership transfer. Never a tenant context: counts of a company are read in that company's own
 * context, and no row of a company's data is returned.
 */
@Injectable()
export class AccountsService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly runBudget: AccountRunBudget,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(ctx: TenantContext): Promise<AccountDto> {
    const account = await this.ownedAccount(ctx);
    const companies = await this.tenancy.accountCompanies(account.id);
    return this.toDto(account, companies);
  }

  /** A new company of the account, the caller its owner; refused (409) when the plan's `maxCompanies` is reached. */
  async createCompany(ctx: TenantContext, dto: CreateAccountCompanyDto): Promise<AccountCompanyDto> {
    const { id: accountId } = await this.ownedAccount(ctx);
    const userId = ctx.userId!;
    const companyId = newId();
    return this.tenancy.run(userContext(companyId, userId, 'owner'), (em) =>
      em.transactional(async (tx) => {
        // The account row lock makes the cap exact: a concurrent creation waits and then counts this one.
        const account = await lockAccount(tx, accountId);
        if (!account || account.ownerUserId !== userId) throw AccountErrors.NotOwner();
        const limits = limitsOf(this.config.plans, account.plan);
        const count = await tx.count(Company, { accountId });
        if (limits.maxCompanies !== null && count >= limits.maxCompanies) {
          throw AccountErrors.CompanyCapReached(
            planLabel(this.config.plans, account.plan),
            limits.maxCompanies,
            count,
          );
        }
        const user = await this.users.findById(userId, tx);
        if (!user) throw Errors.unauthenticated();
        const company = await this.companies.foundWithOwner(
          tx,
          { id: companyId, name: dto.name, accountId },
          user,
          'account',
        );
        const target = { type: 'Company', id: companyId };
        await this.audit.record(
          {
            action: 'account.company_created',
            target,
            metadata: { accountId, name: company.name, slug: company.slug, companies: count + 1 },
          },
          tx,
        );
        return { id: company.id, name: company.name, slug: company.slug };
      }),
    );
  }

  /** Per company: runs this month and members (each read in that company's own context); totals vs the plan. */
  async usage(ctx: TenantContext): Promise<AccountUsageDto> {
    const account = await this.ownedAccount(ctx);
    const now = new Date();
    const month = monthOf(now);
    const directory = await this.tenancy.accountCompanies(account.id);
    const companies: CompanyUsageDto[] = [];
    for (const c of directory) {
      const counts = await this.tenancy.run(systemContext(c.id, 'account-usage'), async (em) => ({
        members: await em.count(Membership, {}),
        runsThisMonth: (await em.findOne(RunBudgetUsage, { month }))?.count ?? 0,
      }));
      companies.push({ id: c.id, name: c.name, slug: c.slug, ...counts });
    }
    return {
      accountId: account.id,
      plan: account.plan,
      month,
      companies,
      totals: {
        companies: companies.length,
        runsThisMonth: await this.runBudget.used(this.em, account.id, now),
        maxMembers: Math.max(0, ...companies.map((c) => c.members)),
      },
      limits: limitsDto(limitsOf(this.config.plans, account.plan)),
    };
  }

  /**
   * Hands the account to `dto.userId`, who must be a member of one of the account's companies (checked in each
   * company's own context; anyone else is the same 400 as an unknown id). Audited in every company of the account.
   */
  async transferOwnership(ctx: TenantContext, dto: TransferAccountOwnershipDto): Promise<AccountOwnerDto> {
    const { id: accountId } = await this.ownedAccount(ctx);
    const from = ctx.userId!;
    const to = dto.userId;
    if (to === from) throw AccountErrors.TransferToOwner();
    const directory = await this.tenancy.accountCompanies(accountId);
    let member = false;
    for (const c of directory) {
      member = await this.tenancy.run(systemContext(c.id, 'account-transfer'), async (em) =>
        Boolean(await this.memberships.findInCompany(to, em)),
      );
      if (member) break;
    }
    if (!member) throw AccountErrors.TransferToStranger();
    await this.tenancy.unscoped(Unscoped.Account, (em) =>
      em.transactional(async (tx) => {
        const account = await lockAccount(tx, accountId);
        if (!account || account.ownerUserId !== from) throw AccountErrors.NotOwner();
        account.ownerUserId = to;
        const companies = await tx.find(Company, { accountId }, { fields: ['id'], orderBy: { id: 'asc' } });
        for (const company of companies) {
          await this.tenancy.inCompany(tx, userContext(company.id, from, 'member'), () =>
            this.audit.record(
              {
                action: 'account.ownership_transferred',
                target: { type: 'Account', id: accountId },
                metadata: { from, to },
              },
              tx,
            ),
          );
        }
      }),
    );
    return { id: accountId, ownerUserId: to };
  }

  /**
   * The account of the caller's company, when the caller is a person who owns it (a switched-in operator does
   * not); anyone else gets 403: the account is the collection above the company, and every company has one.
   */
  private async ownedAccount(ctx: TenantContext): Promise<Account> {
    if (ctx.principalType !== 'user' || !ctx.userId || ctx.operatorId) throw AccountErrors.NotOwner();
    const company = await this.companies.findById(ctx.companyId);
    const account = company ? await this.em.findOne(Account, { id: company.accountId }) : null;
    if (!account || account.ownerUserId !== ctx.userId) throw AccountErrors.NotOwner();
    return account;
  }

  private toDto(account: Account, companies: AccountCompanyDto[]): AccountDto {
    return {
      id: account.id,
      name: account.name,
      plan: account.plan,
      ownerUserId: account.ownerUserId,
      limits: limitsDto(limitsOf(this.config.plans, account.plan)),
      companies,
      createdAt: account.createdAt,
    };
  }
}
