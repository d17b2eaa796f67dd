import { createParamDecorator } from '@nestjs/common';
import { currentStore, type TenantContext } from '../tenancy/request-store.js';

/** The request's verified tenant context. Throws loudly when the guard did not resolve one. */
/** The tenant context when the (public, optionally authenticated) request sent a credential, else undefined. */
export const OptionalTenant = createParamDecorator(
  (_data: unknown): TenantContext | undefined => currentStore()?.tenant,
);

export const Tenant = createParamDecorator((_data: unknown): TenantContext => {
  const tenant = currentStore()?.tenant;
  if (!tenant) {
    throw new Error('@Tenant() used on a route whose authentication guard did not resolve a tenant');
  }
  return tenant;
});
