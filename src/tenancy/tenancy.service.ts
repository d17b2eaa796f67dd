import { Injectable } from '@nestjs/common';
import {
  EntityManager,
  MikroORM,
  RequestContext,
  type EntityClass,
  type FilterQuery,
} from '@mikro-orm/postgresql';
import { newId } from '../common/ids.js';
import { requestStorage, type RequestStore, type TenantContext } from './request-store.js';
import { SESSION, TENANT_FILTER, type TenantFilterArgs } from './tenant.entity.js';

/**
 * The one place a verified credential becomes a tenant scope: it sets the request's context, the ORM filter
 * parameter (wall one) and the row-level-security session setting (wall two) together, on the request's own
 * EntityManager fork. Settings are applied with `set_config(..., true)` at the start of each transaction, so a
 * pooled connection never carries them into another request.
 */
@Injectable()
export class TenancyService {
  constructor(private readonly orm: MikroORM) {}

  /** The request's EntityManager fork (opened by the request hook). */
  requestEm(): EntityManager {
    const em = RequestContext.getEntityManager();
    if (!em) throw new Error('No request context: TenancyService used outside a request or job');
    return em as EntityManager;
  }

  /** A fork of the root EntityManager that inherits nothing from the current request or transaction. */
  detachedFork(): EntityManager {
    return this.orm.em.fork({ clear: true, disableContextResolution: true });
  }

  /** Scopes the current request to `ctx.companyId`. Called once, by the authentication guard. */
  enter(ctx: TenantContext): void {
    const store = requestStorage.getStore();
    if (!store) throw new Error('No request store');
    if (store.tenant && store.tenant.companyId !== ctx.companyId) {
      throw new Error('A request cannot change its company once scoped');
    }
    store.tenant = ctx;
    const em = this.requestEm();
    em.setFilterParams(TENANT_FILTER, { companyId: ctx.companyId } satisfies TenantFilterArgs);
    em.setSessionContext({ variables: { [SESSION.company]: ctx.companyId } });
  }

  /**
   * Lets the request read the caller's *own* memberships in other companies (the `app.user_id` policy):
   * `GET /v1/me`, login, switch-company, the account scope. Nothing else is visible through it.
   */
  enterIdentity(userId: string): void {
    const store = requestStorage.getStore();
    if (!store) throw new Error('No request store');
    store.identityUserId = userId;
    this.requestEm().setSessionContext({ variables: { [SESSION.user]: userId } });
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
    const store: RequestStore = {
      requestId: base?.requestId ?? requestStorage.getStore()?.requestId ?? newId(),
      ip: base?.ip ?? requestStorage.getStore()?.ip,
      userAgent: base?.userAgent ?? requestStorage.getStore()?.userAgent,
      tenant: undefined,
      identityUserId: undefined,
    };
    return requestStorage.run(store, () =>
      RequestContext.create(this.detachedFork(), async () => {
        this.enter(ctx);
        return fn(this.requestEm());
      }),
    );
  }

  /** Runs `fn` with no tenant (a fresh fork): a tenant entity touched inside throws, by design. */
  async runUnscoped<T>(fn: (em: EntityManager) => Promise<T>, requestId = newId()): Promise<T> {
    const store: RequestStore = {
      requestId,
      ip: undefined,
      userAgent: undefined,
      tenant: undefined,
      identityUserId: undefined,
    };
    return requestStorage.run(store, () =>
      RequestContext.create(this.detachedFork(), async () => fn(this.requestEm())),
    );
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
    const em = this.orm.em.fork({
      clear: true,
      disableContextResolution: true,
      session: { variables: { [SESSION.credential]: hash } },
    });
    // The where clause is built from the hash only; the tenant filter is off because no tenant exists yet.
    const where = { [hashProperty]: hash } as FilterQuery<NoInfer<T>>;
    return em.findOne<T>(entity, where, { filters: { [TENANT_FILTER]: false } });
  }
}
