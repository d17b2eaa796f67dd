import { Controller, Get, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../authz/authorize.decorator.js';

const origin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/**
 * OAuth discovery for MCP clients (RFC 9728 protected-resource metadata, RFC 8414 authorization-server metadata):
 * `/mcp` takes bearer credentials; machines get one with client credentials at `/v1/oauth/token`. A 401 points
 * here in `WWW-Authenticate`.
 */
@ApiExcludeController()
@Controller('.well-known')
export class McpMetadataController {
  @Get('oauth-protected-resource')
  @Public()
  resource(@Req() request: FastifyRequest): Record<string, unknown> {
    return {
      resource: `${origin(request)}/mcp`,
      authorization_servers: [origin(request)],
      bearer_methods_supported: ['header'],
      resource_name: 'Tenantry MCP server',
    };
  }

  @Get('oauth-authorization-server')
  @Public()
  authorizationServer(@Req() request: FastifyRequest): Record<string, unknown> {
    return {
      issuer: origin(request),
      token_endpoint: `${origin(request)}/v1/oauth/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
    };
  }
}
