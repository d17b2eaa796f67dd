import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Errors } from '../common/errors/app-error.js';
import { rateLimitHeaders, type RateLimiter, type RateLimitPolicy } from '../common/rate-limiter.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { WriteSlots } from '../tenancy/write-slots.js';
import type { CompanyRuntimeSettings } from './access-ports.js';

export const RATE_LIMITER = Symbol('RATE_LIMITER');

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request of this method takes one of its company's write slots (unless its route calls out). */
export function isWrite(method: string): boolean {
  return !READ_METHODS.has(method);
}

/**
 * What a request may use: its rate-limit buckets (counted, the `RateLimit` headers set on the reply, 429 when one
 * refuses) and, for a write, one of its company's write slots. Each method answers the promise it makes, so the
 * guard's path has no extra await.
 */
@Injectable()
export class RequestLimits {
  constructor(
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    private readonly writeSlots: WriteSlots,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A public route counts against the caller's address. */
  countPublic(reply: FastifyReply, ip: string): Promise<void> {
    return this.count(reply, `ip:${ip}`, this.config.rateLimit.publicPerMinute);
  }

  /** Failed credentials count against the caller's address, so guessing is rate limited too. */
  countAuthFailure(reply: FastifyReply, ip: string): Promise<void> {
    return this.count(reply, `authfail:${ip}`, this.config.rateLimit.publicPerMinute);
  }

  /** A platform route counts against the operator. */
  countOperator(reply: FastifyReply, principalId: string): Promise<void> {
    return this.count(reply, `operator:${principalId}`, this.config.rateLimit.publicPerMinute);
  }

  /**
   * A company request counts against the company and, when the company sets `userRateLimitPerMinute`, against
   * the person acting (`actingUserId`: the user of a session, the creator of an API key or an application, the
   * operator of a switch-in), across all their credentials in this company. The person's bucket is counted
   * first, so a request their own limit refuses does not use up the company's. The headers name the policy
   * nearest its limit; a 429 names the policy that refused (`policy` in the body).
   */
  async countTenant(
    reply: FastifyReply,
    tenant: TenantContext,
    company: CompanyRuntimeSettings,
  ): Promise<void> {
    const policies: { policy: RateLimitPolicy; key: string; limit: number }[] = [];
    if (company.userRateLimitPerMinute !== null && tenant.actingUserId) {
      policies.push({
        policy: 'user',
        key: `user:${tenant.companyId}:${tenant.actingUserId}`,
        limit: company.userRateLimitPerMinute,
      });
    }
    policies.push({
      policy: 'company',
      key: `company:${tenant.companyId}`,
      limit: company.rateLimitPerMinute,
    });
    const states = await this.limiter.hitAll(policies);
    // Listed company first, as `RateLimit-Policy` reads best (the wider policy, then the narrower).
    const named = policies.map((p, i) => ({ policy: p.policy, state: states[i] })).reverse();
    void reply.headers(rateLimitHeaders(named));
    const refused = named.find((n) => n.state.limited);
    if (refused) {
      throw Errors.rateLimited(
        refused.state.resetSeconds,
        refused.policy === 'user'
          ? `Too many requests from you in this company (limit ${refused.state.limit} per minute)`
          : `Too many requests for this company (limit ${refused.state.limit} per minute)`,
        refused.policy,
      );
    }
  }

  /** Takes one of the company's write slots until the request ends, however it ends (see `WriteSlots`). */
  holdWriteSlot(reply: FastifyReply, companyId: string): Promise<void> {
    return this.writeSlots.holdForRequest(reply, companyId);
  }

  private async count(reply: FastifyReply, key: string, limit: number): Promise<void> {
    const state = await this.limiter.hit(key, limit);
    // The policy is the key's prefix (`company`, `ip`, `operator`, `authfail`).
    void reply.headers(rateLimitHeaders([{ policy: key.slice(0, key.indexOf(':')), state }]));
    if (state.limited)
      throw Errors.rateLimited(state.resetSeconds, undefined, key.slice(0, key.indexOf(':')));
  }
}
