import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Errors } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';

/** Passport's JWT guard, answering problem+json 401 on any failure (expired, tampered, wrong type). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
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
}
