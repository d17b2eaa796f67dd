import type { TenantContext } from '../tenancy/request-store.js';

/** Resolves an `sk_live_…` API key to its company's context (provided by the API keys module). */
export interface ApiKeyAuthenticator {
  authenticate(rawKey: string): Promise<TenantContext>;
}

export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');
export const API_KEY_PREFIX = 'sk_live_';
