import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Company } from '../companies/company.entity.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import type { DirectoryEntryDto } from './dto/platform.dto.js';

/**
 * Platform operators navigate; they never read across companies. The directory lists registry metadata only,
 * and a switch-in (decided by the company's policy: `OperatorAccessService`) yields a short-lived token scoped to
 * one company like anyone else's, recorded there.
 */
@Injectable()
export class PlatformService {
  constructor(private readonly em: EntityManager) {}

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
}
