import type { ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../common/errors/app-error.js';
import type { RateLimiter, RateLimitState } from '../common/rate-limiter.js';
import type { AppConfig } from '../config/config.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { WriteSlots } from '../tenancy/write-slots.js';
import type { AccessResolver, ApplicationScopes, UserGroups } from './access-ports.js';
import * as policy from './access-policy.js';
import type { ApiKeyAuthenticator } from './api-key-authenticator.js';
import type { AbilityRule } from './authorize.decorator.js';
import { CredentialAuthenticator } from './credential-authenticator.js';
import { isWrite, RequestLimits } from './request-limits.js';

// The global guard's collaborators, each on its own (the e2e suites cover the guard that composes them).

const COMPANY = '01900000-0000-7000-8000-0000000000c1';
const USER = '01900000-0000-7000-8000-0000000000a1';

const person = (over: Partial<TenantContext> = {}): TenantContext => ({
  companyId: COMPANY,
  principalId: USER,
  principalType: 'user',
  role: 'member',
  userId: USER,
  actingUserId: USER,
  operatorId: undefined,
  ...over,
});

/** What `fn` threw, as an AppError (fails the test when it did not throw one). */
async function thrown(fn: () => unknown): Promise<AppError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

describe('access policy (tenancy scope and ability)', () => {
  it('tells single-resource routes from collections ({companyId} does not count)', () => {
    expect(policy.isItemRoute('/v1/runs/:id')).toBe(true);
    expect(policy.isItemRoute('/v1/companies/:companyId/members/:userId')).toBe(true);
    expect(policy.isItemRoute('/v1/companies/:companyId')).toBe(false);
    expect(policy.isItemRoute('/v1/runs')).toBe(false);
  });

  it("answers 404 for another company's id in the path", async () => {
    expect(() => policy.assertCompanyInPath(undefined, person())).not.toThrow();
    expect(() => policy.assertCompanyInPath(COMPANY, person())).not.toThrow();
    expect((await thrown(() => policy.assertCompanyInPath(USER, person()))).status).toBe(404);
  });

  it('ends switch-ins when the company turned operator access off, but not break-glass or people', async () => {
    const company = (operatorAccess: 'open' | 'approval' | 'off') => ({
      rateLimitPerMinute: 10,
      userRateLimitPerMinute: null,
      deletionScheduled: false,
      operatorAccess,
    });
    const operator = person({ principalType: 'platform_admin', role: 'admin', operatorId: USER });
    expect(() => policy.assertOperatorAdmitted(company('open'), operator)).not.toThrow();
    expect(() => policy.assertOperatorAdmitted(company('approval'), operator)).not.toThrow();
    expect((await thrown(() => policy.assertOperatorAdmitted(company('off'), operator))).status).toBe(401);
    expect(() =>
      policy.assertOperatorAdmitted(company('off'), { ...operator, breakGlass: true }),
    ).not.toThrow();
    expect(() => policy.assertOperatorAdmitted(company('off'), person())).not.toThrow();
  });

  it('blocks all but the company, sessions and audit reads while the company awaits deletion', async () => {
    const company = {
      rateLimitPerMinute: 10,
      userRateLimitPerMinute: null,
      deletionScheduled: true,
      operatorAccess: 'open' as const,
    };
    expect(() =>
      policy.assertNotBeingDeleted(company, { action: 'update', subject: 'Company' }),
    ).not.toThrow();
    expect(() =>
      policy.assertNotBeingDeleted(company, { action: 'read', subject: 'AuditEvent' }),
    ).not.toThrow();
    const error = await thrown(() =>
      policy.assertNotBeingDeleted(company, { action: 'read', subject: 'Run' }),
    );
    expect(error.status).toBe(403);
    expect(() =>
      policy.assertNotBeingDeleted(
        { ...company, deletionScheduled: false },
        { action: 'read', subject: 'Run' },
      ),
    ).not.toThrow();
  });

  it('allows what the ability allows, and says why it refuses', () => {
    expect(policy.refusal({ action: 'read', subject: 'Run' }, person())).toBeUndefined();
    expect(policy.refusal({ action: 'delete', subject: 'Company' }, person())).toBe('permission');
    expect(
      policy.refusal({ action: 'delete', subject: 'Company' }, person({ role: 'owner' })),
    ).toBeUndefined();
    const peopleOnly: AbilityRule = { action: 'read', subject: 'Account', principals: ['user'] };
    expect(policy.refusal(peopleOnly, person({ principalType: 'api_key', role: 'owner' }))).toBe('principal');
    expect(policy.refusalError('permission', { action: 'delete', subject: 'Company' }, person()).detail).toBe(
      'This needs the permission company:delete, which your role (member) does not grant',
    );
    expect(policy.refusalError('principal', peopleOnly, person({ principalType: 'api_key' })).detail).toBe(
      'This route is not available to api key credentials',
    );
  });

  it('lets only signed-in platform operators onto platform routes, reading the flag fresh', async () => {
    const isOperator = vi.fn((_userId: string, _options?: { fresh?: boolean }) => Promise.resolve(true));
    const access = { isOperator } as unknown as AccessResolver;
    await expect(policy.requirePlatformOperator(access, person())).resolves.toBe(true);
    expect(isOperator).toHaveBeenCalledWith(USER, { fresh: true });
    expect(
      (await thrown(() => policy.requirePlatformOperator(access, person({ principalType: 'api_key' }))))
        .status,
    ).toBe(403);
    isOperator.mockResolvedValueOnce(false);
    expect((await thrown(() => policy.requirePlatformOperator(access, person()))).status).toBe(403);
  });
});

describe('request limits', () => {
  const open = (limit: number): RateLimitState => ({
    limit,
    remaining: limit - 1,
    resetSeconds: 60,
    limited: false,
  });
  const full = (limit: number): RateLimitState => ({ limit, remaining: 0, resetSeconds: 42, limited: true });
  const config = { rateLimit: { publicPerMinute: 30, perMinute: 600 } } as unknown as AppConfig;

  function limitsWith(limiter: Partial<RateLimiter>, writeSlots: Partial<WriteSlots> = {}) {
    const headers: Record<string, string> = {};
    const reply = {
      headers: (h: Record<string, string>) => Object.assign(headers, h),
    } as unknown as FastifyReply;
    const limits = new RequestLimits(limiter as RateLimiter, writeSlots as WriteSlots, config);
    return { limits, reply, headers };
  }

  it('counts a public request against the address, with headers, and answers 429 over the limit', async () => {
    const hit = vi.fn((_key: string, limit: number) => Promise.resolve(open(limit)));
    const { limits, reply, headers } = limitsWith({ hit });
    await limits.countPublic(reply, '203.0.113.9');
    expect(hit).toHaveBeenCalledWith('ip:203.0.113.9', 30);
    expect(headers['RateLimit-Policy']).toBe('"ip";q=30;w=60');
    hit.mockResolvedValueOnce(full(30));
    const error = await thrown(() => limits.countAuthFailure(reply, '203.0.113.9'));
    expect(hit).toHaveBeenLastCalledWith('authfail:203.0.113.9', 30);
    expect(error.status).toBe(429);
    expect(error.extensions).toEqual({ policy: 'authfail' });
  });

  it("counts the person's bucket before the company's, and names the one that refused", async () => {
    const hitAll = vi.fn((buckets: readonly { key: string; limit: number }[]) =>
      Promise.resolve(buckets.map((b) => (b.key.startsWith('user:') ? full(b.limit) : open(b.limit)))),
    );
    const { limits, reply, headers } = limitsWith({ hitAll });
    const company = {
      rateLimitPerMinute: 600,
      userRateLimitPerMinute: 5,
      deletionScheduled: false,
      operatorAccess: 'open' as const,
    };
    const error = await thrown(() => limits.countTenant(reply, person(), company));
    expect(hitAll.mock.calls[0][0].map((b) => b.key)).toEqual([
      `user:${COMPANY}:${USER}`,
      `company:${COMPANY}`,
    ]);
    expect(headers['RateLimit-Policy']).toBe('"company";q=600;w=60, "user";q=5;w=60');
    expect(error.status).toBe(429);
    expect(error.extensions).toEqual({ policy: 'user' });

    hitAll.mockClear();
    await limits.countTenant(reply, person(), { ...company, userRateLimitPerMinute: null });
    expect(hitAll.mock.calls[0][0].map((b) => b.key)).toEqual([`company:${COMPANY}`]);
  });

  it('takes a write slot for writes only', async () => {
    const holdForRequest = vi.fn(() => Promise.resolve());
    const { limits, reply } = limitsWith({}, { holdForRequest });
    expect(['GET', 'HEAD', 'OPTIONS'].map(isWrite)).toEqual([false, false, false]);
    expect(['POST', 'PATCH', 'PUT', 'DELETE'].map(isWrite)).toEqual([true, true, true, true]);
    await limits.holdWriteSlot(reply, COMPANY);
    expect(holdForRequest).toHaveBeenCalledWith(reply, COMPANY);
  });
});

describe('credential authenticator', () => {
  const NO_GROUPS: UserGroups = { keys: [], permissions: [] };

  function authenticatorWith(
    token: TenantContext,
    access: Partial<AccessResolver>,
    apiKeys?: ApiKeyAuthenticator,
  ) {
    const request = { headers: { authorization: 'Bearer eyJ.token' } } as unknown as FastifyRequest;
    const jwt = {
      canActivate: vi.fn(() => {
        (request as FastifyRequest & { user: TenantContext }).user = token;
        return Promise.resolve(true);
      }),
    };
    const scopes: ApplicationScopes = {
      application: (ctx) => Promise.resolve({ ...ctx, permissions: ['runs:read'] }),
    };
    const authenticator = new CredentialAuthenticator(jwt, access as AccessResolver, scopes, apiKeys);
    const authenticate = () => authenticator.authenticate({} as ExecutionContext, request);
    return { authenticate, request, jwt };
  }

  it("acts with the weaker of the token's role and the current membership, with the person's groups", async () => {
    const groups: UserGroups = { keys: ['approvers'], permissions: ['audit:read'] };
    const { authenticate } = authenticatorWith(person({ role: 'admin' }), {
      memberAccess: () => Promise.resolve({ role: 'member', groups }),
    });
    const ctx = await authenticate();
    expect(ctx.role).toBe('member');
    expect(ctx.groups).toEqual(['approvers']);
    expect(ctx.permissions).toContain('audit:read');
  });

  it('refuses a token whose membership has ended, or whose operator lost the flag (401)', async () => {
    const ended = authenticatorWith(person(), {
      memberAccess: () => Promise.resolve({ role: null, groups: NO_GROUPS }),
    });
    expect((await thrown(ended.authenticate)).status).toBe(401);
    const operator = person({ principalType: 'platform_admin', operatorId: USER, userId: undefined });
    const revoked = authenticatorWith(operator, { isOperator: () => Promise.resolve(false) });
    expect((await thrown(revoked.authenticate)).status).toBe(401);
  });

  it("narrows an application token to its application's scope", async () => {
    const app = person({ principalType: 'application', userId: undefined });
    expect((await authenticatorWith(app, {}).authenticate()).permissions).toEqual(['runs:read']);
  });

  it('hands an API key to the API key authenticator, without the JWT check', async () => {
    const key = person({ principalType: 'api_key' });
    const apiKeys = { authenticate: vi.fn(() => Promise.resolve(key)) };
    const { authenticate, request, jwt } = authenticatorWith(person(), {}, apiKeys);
    request.headers.authorization = 'Bearer sk_live_abc ';
    await expect(authenticate()).resolves.toBe(key);
    expect(apiKeys.authenticate).toHaveBeenCalledWith('sk_live_abc');
    expect(jwt.canActivate).not.toHaveBeenCalled();
  });
});
