import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../authz/roles.js';
import { newId } from '../common/ids.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { currentTenant } from '../tenancy/request-store.js';
import type { User } from '../users/user.entity.js';
import type { AccessClaims } from './jwt-claims.js';
import { RefreshToken } from './refresh-token.entity.js';
import { randomSecret, sha256Hex } from './secrets.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export const REFRESH_PREFIX = 'rt_';

@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Signs an access JWT (HS256, ≤ 15 minutes; a platform switch-in ≤ 60 minutes). */
  signAccess(
    claims: Omit<AccessClaims, 'jti' | 'token_type' | 'iat' | 'exp' | 'iss' | 'aud'>,
    ttlSeconds?: number,
  ): {
    token: string;
    expiresIn: number;
  } {
    const expiresIn = ttlSeconds ?? this.config.auth.accessTtlSeconds;
    const payload: Omit<AccessClaims, 'iat' | 'exp' | 'iss' | 'aud'> = {
      ...claims,
      token_type: 'access',
      jti: newId(),
    };
    return { token: this.jwt.sign(payload, { expiresIn }), expiresIn };
  }

  /**
   * Issues a refresh token in the current company (a new family unless `familyId` is given) and the access
   * token that goes with it. Persists the token's hash on `em`; the caller's transaction commits it.
   */
  issuePair(em: EntityManager, user: User, role: Role, familyId: string = newId()): TokenPair {
    const tenant = currentTenant();
    const refresh = randomSecret(REFRESH_PREFIX);
    const expiresAt = new Date(Date.now() + this.config.auth.refreshTtlDays * 86_400_000);
    em.persist(new RefreshToken(user, familyId, sha256Hex(refresh), expiresAt));
    const access = this.signAccess({
      sub: user.id,
      company_id: tenant.companyId,
      role,
      principal_type: 'user',
      sid: familyId,
    });
    return {
      accessToken: access.token,
      refreshToken: refresh,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
    };
  }
}
