import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { holdsNow } from '../authz/abilities.js';
import { Errors } from '../common/errors/app-error.js';
import { MembershipsService } from '../members/memberships.service.js';
import { ListingsService } from '../listings/listings.service.js';
import { RunQueue } from '../runs/run-queue.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { CompaniesService } from './companies.service.js';
import type { Company } from './company.entity.js';
import { CompanySettingsCache } from './company-settings.cache.js';
import type { CompanyDto, UpdateCompanyDto } from './dto/company.dto.js';
import { CompanyErrors } from './companies.errors.js';

/** How long a company scheduled for deletion stays restorable before the purge removes it. */
export const DELETION_GRACE_DAYS = 30;

const SETTINGS = [
  'name',
  'rateLimitPerMinute',
  'userRateLimitPerMinute',
  'maxConcurrentRuns',
  'monthlyRunBudget',
  'fourEyes',
  'operatorAccess',
] as const;
type Setting = (typeof SETTINGS)[number];

export function toCompanyDto(c: Company): CompanyDto {
  return {
    id: c.id,
    name: c.name,
    slug: c.slug,
    rateLimitPerMinute: c.rateLimitPerMinute,
    userRateLimitPerMinute: c.userRateLimitPerMinute,
    maxConcurrentRuns: c.maxConcurrentRuns,
    monthlyRunBudget: c.monthlyRunBudget,
    fourEyes: c.fourEyes,
    operatorAccess: c.operatorAccess,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    deletionRequestedAt: c.deletionRequestedAt?.toISOString() ?? null,
    purgeAfter: c.purgeAfter?.toISOString() ?? null,
  };
}

/**
 * The caller's own company: read it, change its name and settings (admins), schedule its deletion and
 * restore it within the grace window (the owner). Always the context's company: the guard has already
 * answered 404 for any other `{companyId}`.
 */
@Injectable()
export class CompanyAdminService {
  constructor(
    private readonly em: EntityManager,
    private readonly companies: CompaniesService,
    private readonly memberships: MembershipsService,
    private readonly cache: CompanySettingsCache,
    private readonly audit: AuditService,
    private readonly runQueue: RunQueue,
    private readonly listings: ListingsService,
  ) {}

  async get(ctx: TenantContext): Promise<CompanyDto> {
    const company = await this.companies.findById(ctx.companyId);
    if (!company) throw Errors.notFound('Company');
    return toCompanyDto(company);
  }

  async update(ctx: TenantContext, dto: UpdateCompanyDto): Promise<CompanyDto> {
    const fields = SETTINGS.filter((f) => dto[f] !== undefined);
    if (fields.length === 0) {
      throw CompanyErrors.NothingToChange(SETTINGS);
    }
    await this.require(ctx, 'company:write');
    if (dto.operatorAccess !== undefined && ctx.principalType === 'platform_admin') {
      // The policy that governs operators is the company's own: an operator cannot loosen (or tighten) it.
      throw CompanyErrors.OperatorSetsOperatorAccess();
    }
    const result = await this.em.transactional(async (tx) => {
      const company = await this.companies.lockForAdministration(tx);
      if (!company) throw Errors.notFound('Company');
      const changes: Partial<Record<Setting, { from: unknown; to: unknown }>> = {};
      for (const field of fields) {
        const to = dto[field];
        if (company[field] === to) continue;
        changes[field] = { from: company[field], to };
        Object.assign(company, { [field]: to });
      }
      const changed = Object.keys(changes);
      if (changed.length === 0) return company;
      await tx.flush();
      // The queue fetches a company's jobs by the cap they were sent with: its waiting jobs take the new one.
      if (changes.maxConcurrentRuns) await this.runQueue.retier(tx, company.id, company.maxConcurrentRuns);
      await this.audit.record(
        {
          action: 'company.updated',
          target: { type: 'Company', id: company.id },
          metadata: { fields: changed, changes },
        },
        tx,
      );
      return company;
    });
    this.cache.invalidate(ctx.companyId);
    return toCompanyDto(result);
  }

  /**
   * Schedules deletion: from now on the company answers only its Company and Session routes and reads of its
   * audit trail (list, verify, export: its admins can keep a copy; its other members cannot sign in), and the
   * purge removes it and all its data after the grace window. Repeating it changes nothing.
   */
  async scheduleDeletion(ctx: TenantContext): Promise<CompanyDto> {
    await this.require(ctx, 'company:delete');
    const result = await this.em.transactional(async (tx) => {
      const company = await this.companies.lockForAdministration(tx);
      if (!company) throw Errors.notFound('Company');
      if (company.purgeAfter) return company;
      const now = new Date();
      company.deletionRequestedAt = now;
      company.purgeAfter = new Date(now.getTime() + DELETION_GRACE_DAYS * 86_400_000);
      await tx.flush();
      // Its community listings leave every marketplace now, not at the purge.
      const listingsWithdrawn = await this.listings.withdrawAll(tx, company.id, true);
      await this.audit.record(
        {
          action: 'company.deletion_scheduled',
          target: { type: 'Company', id: company.id },
          metadata: { purgeAfter: company.purgeAfter.toISOString(), listingsWithdrawn },
        },
        tx,
      );
      return company;
    });
    this.cache.invalidate(ctx.companyId);
    return toCompanyDto(result);
  }

  /** Cancels a scheduled deletion, while the grace window lasts. */
  async restore(ctx: TenantContext): Promise<CompanyDto> {
    await this.require(ctx, 'company:delete');
    const result = await this.em.transactional(async (tx) => {
      const company = await this.companies.lockForAdministration(tx);
      if (!company) throw Errors.notFound('Company');
      if (!company.purgeAfter) throw CompanyErrors.NotScheduledForDeletion();
      if (company.purgeAfter.getTime() <= Date.now()) {
        throw CompanyErrors.GraceWindowEnded();
      }
      const purgeAfter = company.purgeAfter.toISOString();
      company.deletionRequestedAt = null;
      company.purgeAfter = null;
      await tx.flush();
      const listingsRestored = await this.listings.withdrawAll(tx, company.id, false);
      await this.audit.record(
        {
          action: 'company.deletion_cancelled',
          target: { type: 'Company', id: company.id },
          metadata: { purgeAfter, listingsRestored },
        },
        tx,
      );
      return company;
    });
    this.cache.invalidate(ctx.companyId);
    return toCompanyDto(result);
  }

  /** The guard checked the token; a demotion (or removal) since the token was issued counts now. */
  private async require(ctx: TenantContext, permission: string): Promise<void> {
    const role = await this.memberships.currentRole(ctx);
    if (!holdsNow(ctx, role, permission)) {
      throw CompanyErrors.PermissionNotHeld(permission);
    }
  }
}
