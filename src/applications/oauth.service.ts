import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { constantTimeEqual, sha256Hex } from '../auth/secrets.js';
import { TokenService } from '../auth/token.service.js';
import { weakerRole, type Role } from '../authz/roles.js';
import { EventThrottle } from '../common/event-throttle.js';
import { MembershipsService } from '../members/memberships.service.js';
import { currentStore, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Application } from './application.entity.js';
import { OAuthErrors } from './applications.errors.js';
import { CLIENT_ID_PATTERN, CLIENT_SECRET_FORMAT } from './client-credentials.js';
import type { OAuthTokenDto } from './dto/oauth.dto.js';

type DenialReason = 'invalid_secret' | 'creator_not_member';

/** The application as the principal of its own company's context (token time: no request context exists). */
function contextOf(app: Application): TenantContext {
  return {
    companyId: app.companyId,
    principalId: app.id,
    principalType: 'application',
    role: app.role,
    userId: undefined,
    actingUserId: app.createdBy,
    operatorId: undefined,
  };
}

interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), or an error. */
function fromBasic(header: string): ClientCredentials {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) throw OAuthErrors.InvalidClient();
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw OAuthErrors.InvalidRequest('HTTP Basic credentials must be client_id:client_secret');
  const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)) };
  } catch {
    throw OAuthErrors.InvalidRequest('HTTP Basic credentials are not validly URL-encoded');
  }
}

/**
 * `POST /v1/oauth/token`, client credentials grant (RFC 6749 §4.4). The application is found by the SHA-256 of
 * its client id (the `applications_by_hash_read` policy: no tenant is known yet), its secret compared in
 * constant time, and the access token it gets is scoped to its one company with the application's role
 * intersected with its creator's role *now* (a service principal holds no more than its creator): demoting the
 * creator demotes the tokens issued from then on, and once the creator is no longer a member the application
 * gets `invalid_client` (the same 401 as any other failure, audited as `application.token_denied`).
 */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('OAuth');
  private readonly denials = new EventThrottle();
  private readonly dummyHash = sha256Hex('tenantry-no-such-client');

  constructor(
    private readonly tenancy: TenancyService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly memberships: MembershipsService,
  ) {}

  async token(body: unknown, authorization: string | undefined): Promise<OAuthTokenDto> {
    const params = this.params(body);
    const grantType = params.grant_type;
    if (grantType === undefined || grantType === '') {
      throw OAuthErrors.InvalidRequest('grant_type is required');
    }
    if (grantType !== 'client_credentials') {
      throw OAuthErrors.UnsupportedGrantType();
    }
    if (params.scope !== undefined && params.scope.trim() !== '') {
      throw OAuthErrors.InvalidScope();
    }
    const credentials = this.credentials(params, authorization);
    const app = await this.verify(credentials);
    const access = this.tokens.signAccess({
      sub: app.id,
      company_id: app.companyId,
      role: await this.currentRole(app),
      principal_type: 'application',
      created_by: app.createdBy,
    });
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn };
  }

  /** The form or JSON body as string parameters (unknown parameters are ignored, §3.2). */
  private params(
    body: unknown,
  ): Partial<Record<'grant_type' | 'client_id' | 'client_secret' | 'scope', string>> {
    if (body === undefined || body === null) return {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw OAuthErrors.InvalidRequest('The body must be a form or a JSON object');
    }
    const out: Partial<Record<'grant_type' | 'client_id' | 'client_secret' | 'scope', string>> = {};
    for (const name of ['grant_type', 'client_id', 'client_secret', 'scope'] as const) {
      const value = (body as Record<string, unknown>)[name];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw OAuthErrors.InvalidRequest(`${name} must be a string`);
      out[name] = value;
    }
    return out;
  }

  /**
   * One authentication method per request (§2.3): HTTP Basic, or `client_id` + `client_secret` in the body.
   * A body `client_id` equal to the Basic one is tolerated (some clients always send it); a body secret next
   * to Basic, or two different ids, is `invalid_request`.
   */
  private credentials(
    params: Partial<Record<'client_id' | 'client_secret', string>>,
    authorization: string | undefined,
  ): ClientCredentials {
    if (authorization !== undefined) {
      const basic = fromBasic(authorization);
      if (
        params.client_secret !== undefined ||
        (params.client_id !== undefined && params.client_id !== basic.clientId)
      ) {
        throw OAuthErrors.InvalidRequest(
          'Send the client credentials once: HTTP Basic or client_id/client_secret in the body',
        );
      }
      return basic;
    }
    if (!params.client_id || !params.client_secret) {
      throw OAuthErrors.InvalidClient();
    }
    return { clientId: params.client_id, clientSecret: params.client_secret };
  }

  /** The application whose secret this is; every failure is the same `invalid_client`. */
  private async verify({ clientId, clientSecret }: ClientCredentials): Promise<Application> {
    const wellFormed = CLIENT_ID_PATTERN.test(clientId) && CLIENT_SECRET_FORMAT.isWellFormed(clientSecret);
    const app = wellFormed
      ? await this.tenancy.findByCredentialHash(Application, sha256Hex(clientId), 'clientIdHash')
      : null;
    const ok = constantTimeEqual(sha256Hex(clientSecret), app?.clientSecretHash ?? this.dummyHash);
    if (app && ok) return app;
    if (app) {
      await this.denied(app, 'invalid_secret');
    } else if (wellFormed) {
      this.logger.warn({ msg: 'Token request for an unknown client id', ip: currentStore()?.ip });
    }
    throw OAuthErrors.InvalidClient();
  }

  /** The application's role capped by its creator's current role; `invalid_client` once the creator left. */
  private async currentRole(app: Application): Promise<Role> {
    const membership = await this.tenancy.run(contextOf(app), (em) =>
      this.memberships.findInCompany(app.createdBy, em),
    );
    if (membership) return weakerRole(app.role, membership.role);
    await this.denied(app, 'creator_not_member');
    throw OAuthErrors.InvalidClient();
  }

  /**
   * A refused token request for an existing application (a wrong secret, or its creator no longer a member):
   * audited in its company, at most once a minute per application and reason.
   */
  private async denied(app: Application, reason: DenialReason): Promise<void> {
    const slot = this.denials.take(`${app.id}:${reason}`);
    if (!slot) return;
    try {
      await this.tenancy.run(contextOf(app), (em) =>
        em.transactional((tx) =>
          this.audit.record(
            {
              action: 'application.token_denied',
              target: { type: 'Application', id: app.id },
              metadata: { reason, suppressedSinceLast: slot.suppressed },
            },
            tx,
          ),
        ),
      );
    } catch (error) {
      this.logger.error(`Could not audit a refused token request: ${String(error)}`);
    }
  }
}
