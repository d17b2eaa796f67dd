import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { decodeJwt } from 'jose';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { Errors } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';

/** The longest this process answers a token from memory before verifying it again (and never past its `exp`). */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** The most verified tokens kept (least recently used go first): distinct tokens cannot grow memory. */
const MAX_VERIFIED_TOKENS = 20_000;

type TokenRequest = FastifyRequest & { user?: TenantContext };

/**
 * Passport's JWT guard, answering problem+json 401 on any failure (expired, tampered, wrong type).
 *
 * A token it verified is remembered by its exact text (signature included) with the context its claims gave,
 * until its `exp` and for at most `VERIFIED_TOKEN_TTL_MS`: the same bytes verify the same way until they expire
 * (the claims are signed, `validate` reads nothing else), so a client's next request skips the HMAC, the JSON
 * parsing and passport (~150 µs of CPU per request in a profile of R2, docs/benchmarks.md). A token that differs
 * in any byte is verified in full; failures are never remembered. What an access token cannot say (the current
 * membership role, groups, an operator's flag) is still read on every request by the credential authenticator.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly verified = new LRUCache<string, TenantContext>({
    max: MAX_VERIFIED_TOKENS,
    ttl: VERIFIED_TOKEN_TTL_MS,
  });

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TokenRequest>();
    const header = request.headers.authorization;
    const known = typeof header === 'string' ? this.verified.get(header) : undefined;
    if (known) {
      request.user = known;
      return true;
    }
    const ok = (await super.canActivate(context)) as boolean;
    if (ok && typeof header === 'string' && request.user) this.remember(header, request.user);
    return ok;
  }

  override handleRequest<T = TenantContext>(
    err: unknown,
    user: unknown,
    _info: unknown,
    _ctx: ExecutionContext,
  ): T {
    if (err || !user) {
      throw Errors.unauthenticated();
    }
    return user as T;
  }

  /** Keeps a just-verified token's context until its `exp` (read from the verified payload), at most the TTL. */
  private remember(header: string, ctx: TenantContext): void {
    const exp = expiry(header);
    if (exp === undefined) return;
    const ttl = Math.min(exp - Date.now(), VERIFIED_TOKEN_TTL_MS);
    // Shared by the requests that present the same token: frozen, so no request can change another's context.
    if (ttl > 0) this.verified.set(header, Object.freeze(ctx), { ttl });
  }
}

/** The `exp` (epoch ms) of the bearer token in `header`, whose signature was just verified; undefined without one. */
function expiry(header: string): number | undefined {
  // The credential as passport-jwt's bearer extractor takes it: the second word of the header.
  const token = header.trim().split(/\s+/)[1];
  try {
    const { exp } = decodeJwt(token ?? '');
    return exp === undefined ? undefined : exp * 1000;
  } catch {
    return undefined;
  }
}
