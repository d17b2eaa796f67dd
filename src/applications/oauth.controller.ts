import { applyDecorators, Body, Controller, Header, Headers, HttpCode, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Public } from '../authz/authorize.decorator.js';
import { OAuthProblemDto, OAuthTokenDto, OAuthTokenRequestDto } from './dto/oauth.dto.js';
import { OAuthService } from './oauth.service.js';

const NO_STORE_HEADERS = {
  'Cache-Control': {
    description: '`no-store` (RFC 6749 §5.1)',
    schema: { type: 'string', enum: ['no-store'] },
  },
  Pragma: { description: '`no-cache` (RFC 6749 §5.1)', schema: { type: 'string', enum: ['no-cache'] } },
};

/** An RFC 6749 §5.2 error: problem+json with `error` and `error_description`; a 401 names the Basic scheme. */
function OAuthErrorResponse(status: 400 | 401, description: string): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(OAuthProblemDto),
    ApiResponse({
      status,
      description,
      headers: {
        ...NO_STORE_HEADERS,
        ...(status === 401
          ? {
              'WWW-Authenticate': {
                description: 'The Basic scheme (RFC 6749 §5.2)',
                schema: { type: 'string', enum: ['Basic realm="tenantry"'] },
              },
            }
          : {}),
      },
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(OAuthProblemDto) } } },
    }),
  );
}

@ApiTags('OAuth')
@Controller('v1/oauth')
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  /**
   * The body is read as plain parameters rather than a validated DTO: errors here follow RFC 6749 §5.2
   * (`error`, `error_description`), not the API's field-error shape.
   */
  @Post('token')
  @HttpCode(200)
  @OAuthErrorResponse(
    400,
    'invalid_request, unsupported_grant_type or invalid_scope (VALIDATION_FAILED); `error` and ' +
      '`error_description` as in RFC 6749 §5.2',
  )
  @Public()
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    operationId: 'OAuth_token',
    summary:
      'Client credentials grant (RFC 6749 §4.4): an application’s access token for its one company. ' +
      'Credentials by HTTP Basic or in the body (not both); form or JSON',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: OAuthTokenRequestDto })
  @ApiOkResponse({ type: OAuthTokenDto, headers: NO_STORE_HEADERS })
  @OAuthErrorResponse(
    401,
    'invalid_client (UNAUTHENTICATED): unknown client, wrong secret or no credentials; `error` and ' +
      '`error_description` as in RFC 6749 §5.2',
  )
  token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<OAuthTokenDto> {
    return this.oauth.token(body, authorization);
  }
}
