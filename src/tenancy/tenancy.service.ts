import { Injectable } from '@nestjs/common';
import { EntityManager, MikroORM, type EntityClass, type FilterQuery } from '@mikro-orm/postgresql';
import { Company } from '../companies/company.entity.js';
import { newId } from '../common/ids.js';
import { applyScope, requestEntityManager } from './request-em.js';
import { newStore, requestStorage, type RequestStore, type TenantContext } from './request-store.js';
import { SESSION, TENANT_FILTER } from './tenant.entity.js';
import { Unscoped, type UnscopedReason } from './unscoped.js';

/** Sets the transaction's `app.company_id` (transaction-local; '' is nobody): `inCompany` only. */
async function setCompanySetting(tx: EntityManager, companyId: string): Promise<void> {
  await tx
    .getConnection()
    .execute(
      'select set_config(?, ?, true)',
      [SESSION.company, companyId],
      'all',
      tx.getTransactionContext(),
    );
}

/**
 * The one place a verified credential becomes a tenant scope: it sets the request's context, the ORM filter
 * parameter (wall one) and the row-level-security session setting (wall two) together, on the request's own
 * EntityManager fork. Settings are applied with `set_config(..., true)` at the start of each transaction, so a
 * pooled connection never carries them into another request.
 */
@Injectable()
export class TenancyService {
  constructor(private readonly orm: MikroORM) {}

  /** The request's (or job's) EntityManager fork, created on first use and scoped like the request. */
  requestEm(): EntityManager {
    const em = requestEntityManager();
    if (!em) throw new Error('No request context: TenancyService used outside a request or job');
    return em;
  }

  /** Scopes the current request to `ctx.companyId`. Called once, by the authentication guard. */
  enter(ctx: TenantContext): void {
    const store = requestStorage.getStore();
    if (!store) throw new Error('No request store');
    if (store.tenant && store.tenant.companyId !== ctx.companyId) {
      throw new Error('A request cannot change its company once scoped');
    }
    store.tenant = ctx;
    // A fork made later is scoped when it is made; one made already is scoped now.
    if (store.em) applyScope(store.em, store);
  }

  /**
   * Lets the request read the caller's *own* memberships in other companies (the `app.user_id` policy):
   * `GET /v1/me`, login, switch-company, the account scope. Nothing else is visible through it.
   */
  enterIdentity(userId: string): void {
    const store = requestStorage.getStore();
    if (!store) throw new Error('No request store');
    store.identityUserId = userId;
    if (store.em) applyScope(store.em, store);
  }

  /**
   * Runs `fn` in a fresh context of one company, with its own EntityManager fork: background jobs,
   * and request flows that must act in a company other than the one they started in (register, refresh).
   */
  async run<T>(
    ctx: TenantContext,
    fn: (em: EntityManager) => Promise<T>,
    base?: Pick<RequestStore, 'requestId' | 'ip' | 'userAgent'>,
  ): Promise<T> {
    const current = requestStorage.getStore();
    const store = newStore(this.orm.em, {
      requestId: base?.requestId ?? current?.requestId ?? newId(),
      ip: base?.ip ?? current?.ip,
      userAgent: base?.userAgent ?? current?.userAgent,
    });
    store.tenant = ctx;
    return requestStorage.run(store, () => fn(this.requestEm()));
  }

  /** Every company id of the registry (or just `only`, when it exists), in id order: the directory, not tenant data. */
  async companyIds(only?: string): Promise<string[]> {
    const rows = await this.unscoped(Unscoped.Directory, (registry) =>
      registry.find(Company, only ? { id: only } : {}, { fields: ['id'], orderBy: { id: 'asc' } }),
    );
    return rows.map((c) => c.id);
  }

  /**
   * The directory of one account's companies (id, name, slug, in id order): registry metadata, no tenant data.
   * Each company's counts are then read in that company's own context (`run` with a system context).
   */
  async accountCompanies(accountId: string): Promise<Pick<Company, 'id' | 'name' | 'slug'>[]> {
    const rows = await this.unscoped(Unscoped.Account, (registry) =>
      registry.find(Company, { accountId }, { fields: ['id', 'name', 'slug'], orderBy: { id: 'asc' } }),
    );
    return rows.map((c) => ({ id: c.id, name: c.name, slug: c.slug }));
  }

  /**
   * Runs `fn` outside any company, for one of the few reasons listed in `Unscoped` (README "Unscoped paths"): a
   * fresh context with no tenant and its own EntityManager fork (out of the caller's identity map and
   * transaction). Registry, account and credential rows are readable; a tenant entity touched inside throws.
   */
  async unscoped<T>(reason: UnscopedReason, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const current = requestStorage.getStore();
    const store = newStore(this.orm.em, {
      requestId: current?.requestId ?? newId(),
      ip: current?.ip,
      userAgent: current?.userAgent,
    });
    store.unscoped = reason;
    return requestStorage.run(store, () => fn(this.requestEm()));
  }

  /**
   * Runs `fn` in `ctx`'s company *inside* `tx`, a transaction of unscoped `Unscoped.Account` work: the
   * transaction's company setting (wall two) is that company's while `fn` runs and nobody's again after it, and
   * the context is `ctx` (so `AuditService.record(…, tx)` appends to that company's trail). For an account-wide
   * change audited in each affected company's trail in the change's own transaction. `fn` writes through
   * scoped statements (the audit append) only: `tx`'s ORM filter knows no company, so a tenant entity query
   * inside still throws. Pending changes are flushed before the switch and after `fn`.
   */
  async inCompany<T>(tx: EntityManager, ctx: TenantContext, fn: () => Promise<T>): Promise<T> {
    const outer = requestStorage.getStore();
    if (outer?.unscoped !== Unscoped.Account || outer.tenant) {
      throw new Error('inCompany runs inside unscoped account work only');
    }
    if (!tx.isInTransaction()) throw new Error('inCompany needs the transaction of the change');
    await tx.flush();
    await setCompanySetting(tx, ctx.companyId);
    const store = newStore(this.orm.em, {
      requestId: outer.requestId,
      ip: outer.ip,
      userAgent: outer.userAgent,
    });
    store.tenant = ctx;
    store.em = tx;
    const result = await requestStorage.run(store, fn);
    await tx.flush();
    await setCompanySetting(tx, '');
    return result;
  }

  /**
   * Looks up one credential row (refresh token, API key, invitation) by the SHA-256 of its secret, before any
   * tenant is known. Row-level security admits exactly the row whose hash is in `app.credential_hash` (see the
   * entity's `*_by_hash_read` policy); the ORM filter is switched off for this one query, which is scoped by
   * the same hash. Knowing the secret is what entitles the caller to find its company.
   */
  async findByCredentialHash<T extends object>(
    entity: EntityClass<T>,
    hash: string,
    hashProperty: keyof T & string = 'tokenHash' as keyof T & string,
  ): Promise<T | null> {
    return this.unscoped(Unscoped.CredentialLookup, (em) => {
      em.setSessionContext({ variables: { [SESSION.credential]: hash } });
      // The where clause is built from the hash only; the tenant filter is off because no tenant exists yet.
      const where = { [hashProperty]: hash } as FilterQuery<NoInfer<T>>;
      return em.findOne<T>(entity, where, { filters: { [TENANT_FILTER]: false } });
    });
  }
}
