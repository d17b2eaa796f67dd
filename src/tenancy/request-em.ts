import type { EntityManager } from '@mikro-orm/postgresql';
import { requestStorage, type RequestStore } from './request-store.js';
import { SESSION, TENANT_FILTER, type TenantFilterArgs } from './tenant.entity.js';

/** Applies the store's tenant (ORM filter + row-level-security setting) and identity scope to its fork. */
export function applyScope(em: EntityManager, store: RequestStore): void {
  if (store.tenant) {
    em.setFilterParams(TENANT_FILTER, { companyId: store.tenant.companyId } satisfies TenantFilterArgs);
    em.setSessionContext({ variables: { [SESSION.company]: store.tenant.companyId } });
  }
  if (store.identityUserId) {
    em.setSessionContext({ variables: { [SESSION.user]: store.identityUserId } });
  }
}

/**
 * The EntityManager of the current request or job: MikroORM's `context` resolver (see `buildOrmConfig`), so
 * the injected `EntityManager` resolves to it. Created on first use, as a fork that inherits nothing from any
 * other request, and scoped like the store; `undefined` outside a request or job (a query on a tenant entity
 * then fails, and the global context is not allowed).
 */
export function requestEntityManager(): EntityManager | undefined {
  const store = requestStorage.getStore();
  if (!store) return undefined;
  if (!store.em) {
    // `useContext: false`: the fork is the context; it must not resolve (and so create) one of its own.
    store.em = store.root.fork({ clear: true, useContext: false, disableContextResolution: true });
    applyScope(store.em, store);
  }
  return store.em;
}
