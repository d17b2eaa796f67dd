import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { MembershipsService } from '../members/memberships.service.js';
import { lockCompany } from '../tenancy/company-lock.js';
import { currentTenant } from '../tenancy/request-store.js';
import type { User } from '../users/user.entity.js';
import { Company } from './company.entity.js';
import { slugify, suffixedSlug } from './slug.js';
import { CompanyErrors } from './companies.errors.js';

const SLUG_ATTEMPTS = 5;
const SLUG_UNIQUE = 'companies_slug_unique';

/** Whether `e` is the unique violation of the companies' slug (the driver error names its constraint). */
function isSlugTaken(e: unknown): boolean {
  return (
    e instanceof UniqueConstraintViolationException &&
    (e as UniqueConstraintViolationException & { constraint?: string }).constraint === SLUG_UNIQUE
  );
}

/**
 * Company ids in id order after `after`, `limit` at a time, read on `em` (a fork outside any request): for
 * background maintenance that then visits each company in that company's own context. The registry, not tenant
 * data. A function rather than a `CompaniesService` method so that modules the companies module depends on
 * (idempotency, through runs) can use it without a module cycle.
 */
export async function companyIdsAfter(
  em: EntityManager,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await em.find(Company, after === null ? {} : { id: { $gt: after } }, {
    fields: ['id'],
    orderBy: { id: 'asc' },
    limit,
  });
  return rows.map((c) => c.id);
}

/** The company registry. Reads here are always by an id taken from the tenant context (or a slug at login). */
@Injectable()
export class CompaniesService {
  constructor(
    private readonly em: EntityManager,
    private readonly memberships: MembershipsService,
    private readonly audit: AuditService,
  ) {}

  /** A slug no company has yet: the name's slug, else with a random suffix. */
  async uniqueSlug(name: string, em: EntityManager = this.em): Promise<string> {
    const base = slugify(name);
    if ((await em.count(Company, { slug: base })) === 0) return base;
    for (let i = 0; i < SLUG_ATTEMPTS; i++) {
      const candidate = suffixedSlug(base);
      if ((await em.count(Company, { slug: candidate })) === 0) return candidate;
    }
    throw CompanyErrors.SlugExhausted();
  }

  /**
   * Creates the company in `tx` under a slug no other company has. `uniqueSlug` is only a first guess: a
   * concurrent registration of the same name can take that slug between the check and the insert. So the
   * insert runs in a savepoint, and a unique violation *on the slug* tries the next candidate (a suffixed slug)
   * instead of failing the whole registration with a 409 that would read like a duplicate account.
   */
  async createWithUniqueSlug(
    tx: EntityManager,
    input: { id: string; name: string; accountId: string },
  ): Promise<Company> {
    let slug = await this.uniqueSlug(input.name, tx);
    for (let attempt = 0; ; attempt++) {
      const company = new Company(input.name, slug, input.accountId);
      company.id = input.id;
      try {
        await tx.transactional(async (savepoint) => {
          savepoint.persist(company);
          await savepoint.flush();
        });
        return company;
      } catch (e) {
        if (!isSlugTaken(e)) throw e;
        if (attempt >= SLUG_ATTEMPTS) throw CompanyErrors.SlugExhausted();
        slug = suffixedSlug(slugify(input.name));
      }
    }
  }

  /**
   * Founds a company in `tx`, run in the new company's context: the company (`createWithUniqueSlug`), `owner`'s
   * `owner` membership, and the audit events `company.created` and `member.joined` (`metadata.via`: how the
   * owner came, at registration or as an account owner adding a company).
   */
  async foundWithOwner(
    tx: EntityManager,
    input: { id: string; name: string; accountId: string },
    owner: User,
    via: 'registration' | 'account',
  ): Promise<Company> {
    const company = await this.createWithUniqueSlug(tx, input);
    this.memberships.add(tx, owner, 'owner');
    await this.audit.record(
      {
        action: 'company.created',
        target: { type: 'Company', id: company.id },
        metadata: { name: company.name, slug: company.slug },
      },
      tx,
    );
    await this.audit.record(
      {
        action: 'member.joined',
        target: { type: 'Member', id: owner.id },
        metadata: { role: 'owner', via },
      },
      tx,
    );
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
