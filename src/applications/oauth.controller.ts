import { Body, Controller, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProblemResponse, Public } from '../authz/authorize.decorator.js';
import { OAuthTokenDto, OAuthTokenRequestDto } from './dto/oauth.dto.js';
import { OAuthService } from './oauth.service.js';

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
  @ProblemResponse(
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
  @ApiOkResponse({ type: OAuthTokenDto })
  @ProblemResponse(
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
