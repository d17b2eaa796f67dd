import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CompanyRuntimeSettings, CompanyRuntimeSettingsSource } from '../authz/access-ports.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { Company } from './company.entity.js';

const TTL_MS = 30_000;

/**
 * What the request path needs of a company on every call (its rate limit, whether it is being deleted),
 * cached briefly per process so the hot path does not query the registry each time. The global guard reads it as
 * `COMPANY_RUNTIME_SETTINGS`.
 */
@Injectable()
export class CompanySettingsCache implements CompanyRuntimeSettingsSource {
  /** Companies read in the last `TTL_MS`, the 50 000 most recently used (an entry wraps a null: no such company). */
  private readonly entries = new LRUCache<string, { value: CompanyRuntimeSettings | null }>({
    max: 50_000,
    ttl: TTL_MS,
  });

  constructor(
    private readonly tenancy: TenancyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(companyId: string): Promise<CompanyRuntimeSettings | null> {
    const hit = this.entries.get(companyId);
    if (hit) return hit.value;
    // The registry is not tenant data (no filter, no RLS); an unscoped fork keeps this read out of the request's
    // identity map and transaction.
    const company = await this.tenancy.unscoped(Unscoped.Directory, (em) =>
      em.findOne(
        Company,
        { id: companyId },
        { fields: ['id', 'rateLimitPerMinute', 'userRateLimitPerMinute', 'purgeAfter', 'operatorAccess'] },
      ),
    );
    const value = company
      ? {
          rateLimitPerMinute: company.rateLimitPerMinute ?? this.config.rateLimit.perMinute,
          userRateLimitPerMinute: company.userRateLimitPerMinute,
          deletionScheduled: company.purgeAfter !== null,
          operatorAccess: company.operatorAccess,
        }
      : null;
    this.entries.set(companyId, { value });
    return value;
  }

  /** Drops a company's entry after its settings changed (this process sees the change at once). */
  invalidate(companyId: string): void {
    this.entries.delete(companyId);
  }
}
