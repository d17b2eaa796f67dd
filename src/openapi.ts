import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const API_VERSION = '1.0.0';

/** The OpenAPI 3.1 document: stable operationIds (`Connectors_list`), both security schemes, every error. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tenantry API')
    .setDescription(
      'Multi-tenant process automation. Every call is scoped to the company of the verified credential; ' +
        "another company's id answers 404 exactly like a missing one. Errors are RFC 9457 problem+json.",
    )
    .setVersion(API_VERSION)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access JWT' },
      'bearer',
    )
    .addSecurity('apiKey', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'sk_live_…',
      description: 'API key, sent as `Authorization: Bearer sk_live_…`',
    })
    .addOAuth2(
      { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/v1/oauth/token', scopes: {} } } },
      'oauth2',
    )
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey: string, methodKey: string) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}
