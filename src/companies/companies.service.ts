import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Errors } from '../common/errors/app-error.js';
import { lockCompany } from '../tenancy/company-lock.js';
import { currentTenant } from '../tenancy/request-store.js';
import { Company } from './company.entity.js';
import { slugify, suffixedSlug } from './slug.js';

/** The company registry. Reads here are always by an id taken from the tenant context (or a slug at login). */
@Injectable()
export class CompaniesService {
  constructor(private readonly em: EntityManager) {}

  /** A slug no company has yet: the name's slug, else with a random suffix. */
  async uniqueSlug(name: string, em: EntityManager = this.em): Promise<string> {
    const base = slugify(name);
    if ((await em.count(Company, { slug: base })) === 0) return base;
    for (let i = 0; i < 5; i++) {
      const candidate = suffixedSlug(base);
      if ((await em.count(Company, { slug: candidate })) === 0) return candidate;
    }
    throw Errors.conflict('Could not derive a unique slug for this company name');
  }

  create(em: EntityManager, input: { id?: string; name: string; slug: string }): Company {
    const company = new Company(input.name, input.slug);
    if (input.id) company.id = input.id;
    em.persist(company);
    return company;
  }

  findById(id: string, em: EntityManager = this.em): Promise<Company | null> {
    return em.findOne(Company, { id });
  }

  findBySlug(slug: string, em: EntityManager = this.em): Promise<Company | null> {
    return em.findOne(Company, { slug });
  }

  /**
   * The context's company, read after taking its `administration` lock (held until `em`'s transaction ends):
   * serialises changes that must see each other within one company (settings, deletion, invitations of one
   * email, the resend limit), and only that company. An advisory lock, not `FOR UPDATE` (see `lockCompany`).
   */
  async lockForAdministration(em: EntityManager): Promise<Company | null> {
    await lockCompany(em, 'administration');
    return em.findOne(Company, { id: currentTenant().companyId }, { refresh: true });
  }

  findByIds(ids: string[], em: EntityManager = this.em): Promise<Company[]> {
    return ids.length === 0 ? Promise.resolve([]) : em.find(Company, { id: { $in: ids } });
  }
}
