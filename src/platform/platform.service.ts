import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { TokenService } from '../auth/token.service.js';
import { Company } from '../companies/company.entity.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import type { DirectoryEntryDto, SwitchInTokenDto } from './dto/platform.dto.js';

/**
 * Platform operators navigate; they never read across companies. The directory lists registry metadata only,
 * and a switch-in yields a short-lived token scoped to one company like anyone else's, recorded there.
 */
@Injectable()
export class PlatformService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async directory(query: PageQueryDto): Promise<Page<DirectoryEntryDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(Company, page.where, {
      ...page.options,
      fields: ['id', 'name', 'slug', 'createdAt'],
    });
    return toPage(rows, page.limit, (c) => ({
      id: c.id,
      name: c.name,
      slug: c.slug,
      createdAt: c.createdAt.toISOString(),
    }));
  }

  async switchIn(operator: TenantContext, companyId: string, reason: string): Promise<SwitchInTokenDto> {
    const operatorId = operator.userId;
    if (!operatorId) throw Errors.forbidden('Platform operators only');
    const company = await this.em.findOne(Company, { id: companyId });
    if (!company) throw Errors.notFound('Company');
    const ttl = this.config.auth.switchTtlSeconds;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const ctx: TenantContext = {
      companyId,
      principalId: operatorId,
      principalType: 'platform_admin',
      role: 'admin',
      userId: operatorId,
      actingUserId: operatorId,
      operatorId,
    };
    return this.tenancy.run(ctx, (em) =>
      em.transactional(async (tx) => {
        const event = await this.audit.record(
          {
            action: 'platform.switched_in',
            target: { type: 'Company', id: companyId },
            metadata: { reason, expiresAt: expiresAt.toISOString(), fromCompanyId: operator.companyId },
          },
          tx,
        );
        const access = this.tokens.signAccess(
          {
            sub: operatorId,
            company_id: companyId,
            role: 'admin',
            principal_type: 'platform_admin',
            act: { sub: operatorId },
            sid: event.id,
          },
          ttl,
        );
        return {
          accessToken: access.token,
          tokenType: 'Bearer' as const,
          expiresIn: access.expiresIn,
          expiresAt: expiresAt.toISOString(),
          company: { id: company.id, name: company.name, slug: company.slug },
        };
      }),
    );
  }
}
