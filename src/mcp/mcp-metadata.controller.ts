import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Public } from '../authz/authorize.decorator.js';

/**
 * OAuth discovery for MCP clients (RFC 9728 protected-resource metadata, RFC 8414 authorization-server metadata):
 * `/mcp` takes bearer credentials; machines get one with client credentials at `/v1/oauth/token`. A 401 points
 * here in `WWW-Authenticate`.
 */
@ApiExcludeController()
@Controller('.well-known')
export class McpMetadataController {
  /** The configured public origin: never the request's Host header (a forged Host must not redirect clients). */
  private readonly origin: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.origin = config.publicAppUrl;
  }

  @Get('oauth-protected-resource')
  @Public()
  resource(): Record<string, unknown> {
    return {
      resource: `${this.origin}/mcp`,
      authorization_servers: [this.origin],
      bearer_methods_supported: ['header'],
      resource_name: 'Tenantry MCP server',
    };
  }

  @Get('oauth-authorization-server')
  @Public()
  authorizationServer(): Record<string, unknown> {
    return {
      issuer: this.origin,
      token_endpoint: `${this.origin}/v1/oauth/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
    };
  }
}
