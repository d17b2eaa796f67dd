import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { sha256Hex } from '../auth/secrets.js';
import type { ApiKeyAuthenticator } from '../authz/api-key-authenticator.js';
import { weakerRole } from '../authz/roles.js';
import { Errors } from '../common/errors/app-error.js';
import { EventThrottle } from '../common/event-throttle.js';
import { CredentialScopes } from '../members/credential-scopes.js';
import { MembershipsService } from '../members/memberships.service.js';
import { currentStore, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder.js';
import { API_KEY_FORMAT } from './api-key-format.js';
import { ApiKey } from './api-key.entity.js';

type DenialReason = 'revoked' | 'expired' | 'creator_not_member';

/**
 * Resolves `Authorization: Bearer sk_live_…` into the key's one company. Every failure is the same 401 as any
 * other bad credential, so a response never tells whether a key exists:
 * 1. malformed or wrong checksum: refused before any lookup;
 * 2. the key is found by its SHA-256 alone (the `api_keys_by_hash_read` policy); unknown: logged (there is no
 *    company to audit it in);
 * 3. revoked, expired, or its creator no longer a member of the company: audited there as `api_key.use_denied`;
 * 4. otherwise the context's role is the key's role intersected with the creator's role *now*.
 * Nothing is cached: a revocation, a removal or a demotion applies to the very next request (the price is two
 * indexed reads per request). `lastUsedAt` is recorded in batches.
 */
@Injectable()
export class ApiKeyAuthenticatorService implements ApiKeyAuthenticator {
  private readonly logger = new Logger('ApiKeyAuthenticator');
  private readonly denials = new EventThrottle();

  constructor(
    private readonly tenancy: TenancyService,
    private readonly memberships: MembershipsService,
    private readonly audit: AuditService,
    private readonly usage: ApiKeyUsageRecorder,
    private readonly scopes: CredentialScopes,
  ) {}

  async authenticate(rawKey: string): Promise<TenantContext> {
    if (!API_KEY_FORMAT.isWellFormed(rawKey)) throw Errors.unauthenticated();
    const key = await this.tenancy.findByCredentialHash(ApiKey, sha256Hex(rawKey), 'keyHash');
    if (!key) {
      this.logger.warn({ msg: 'An unknown API key was presented', ip: currentStore()?.ip });
      throw Errors.unauthenticated();
    }
    const ctx: TenantContext = {
      companyId: key.companyId,
      principalId: key.id,
      principalType: 'api_key',
      role: key.role,
      userId: key.createdBy,
      actingUserId: key.createdBy,
      operatorId: undefined,
    };
    const status = key.statusAt();
    if (status !== 'active') return this.deny(ctx, status);
    const membership = await this.tenancy.run(ctx, (em) => this.memberships.findInCompany(key.createdBy, em));
    if (!membership) return this.deny(ctx, 'creator_not_member');
    this.usage.touch(key.companyId, key.id);
    // A scoped key: its list ∩ its creator's current effective permissions ∩ its role's.
    return this.scopes.narrow(
      { ...ctx, role: weakerRole(key.role, membership.role) },
      key.permissions,
      membership.role,
    );
  }

  /** Audits the refusal in the key's company (at most once a minute per key and reason), then answers 401. */
  private async deny(ctx: TenantContext, reason: DenialReason): Promise<never> {
    const slot = this.denials.take(`${ctx.principalId}:${reason}`);
    if (slot) {
      try {
        await this.tenancy.run(ctx, (em) =>
          em.transactional((tx) =>
            this.audit.record(
              {
                action: 'api_key.use_denied',
                target: { type: 'ApiKey', id: ctx.principalId },
                metadata: { reason, suppressedSinceLast: slot.suppressed },
              },
              tx,
            ),
          ),
        );
      } catch (error) {
        this.logger.error(`Could not audit a refused API key: ${String(error)}`);
      }
    }
    throw Errors.unauthenticated();
  }
}
