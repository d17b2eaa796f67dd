import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { isRole } from '../authz/roles.js';
import { isUuid } from '../common/ids.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { JWT_AUDIENCE, JWT_ISSUER, jwtKey, type AccessClaims } from './jwt-claims.js';

const PRINCIPALS = new Set(['user', 'application', 'platform_admin']);

/** Verifies access JWTs (signature, expiry, issuer, audience) and turns their claims into a tenant context. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject: passed through to jsonwebtoken, which then skips per-request key parsing.
      secretOrKey: jwtKey(config.auth) as unknown as string,
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      ignoreExpiration: false,
      jsonWebTokenOptions: {
        maxAge: `${Math.max(config.auth.switchTtlSeconds, config.auth.accessTtlSeconds)}s`,
      },
    });
  }

  /** Returns the context, or `false` (401) for a token of the wrong type or shape. */
  validate(claims: AccessClaims): TenantContext | false {
    if (
      claims.token_type !== 'access' ||
      !PRINCIPALS.has(claims.principal_type) ||
      !isUuid(claims.sub) ||
      !isUuid(claims.company_id) ||
      !isRole(claims.role)
    ) {
      return false;
    }
    if (claims.principal_type === 'platform_admin') {
      if (!claims.act || !isUuid(claims.act.sub)) return false;
      return {
        companyId: claims.company_id,
        principalId: claims.sub,
        principalType: 'platform_admin',
        role: 'admin',
        userId: claims.act.sub,
        actingUserId: claims.act.sub,
        operatorId: claims.act.sub,
        // Anything but an explicit `write` is read-only (a token without the claim included).
        operatorMode: claims.operator_mode === 'write' ? 'write' : 'read',
        ...(claims.break_glass === true ? { breakGlass: true } : {}),
      };
    }
    let actingUserId = claims.sub;
    if (claims.principal_type === 'application') {
      // An application acts on behalf of its creator; a token without one (issued before) is refused.
      if (typeof claims.created_by !== 'string' || !isUuid(claims.created_by)) return false;
      actingUserId = claims.created_by;
    }
    return {
      companyId: claims.company_id,
      principalId: claims.sub,
      principalType: claims.principal_type,
      role: claims.role,
      userId: claims.principal_type === 'user' ? claims.sub : undefined,
      actingUserId,
      operatorId: undefined,
      sessionId: claims.sid,
    };
  }
}
