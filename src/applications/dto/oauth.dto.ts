import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProblemDto } from '../../common/dto/problem.dto.js';

/**
 * The token request (RFC 6749 §4.4.2), as `application/x-www-form-urlencoded` or JSON. Client credentials go
 * either in an HTTP Basic `Authorization` header (§2.3.1) or as `client_id`/`client_secret` here, not both.
 */
export class OAuthTokenRequestDto {
  @ApiProperty({ enum: ['client_credentials'] })
  grant_type: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'When not sent with HTTP Basic' })
  client_id?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'When not sent with HTTP Basic' })
  client_secret?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'No scopes are defined: omit it or send it empty' })
  scope?: string;
}

/** RFC 6749 §5.1 (its field names, which OAuth clients expect). */
export class OAuthTokenDto {
  @ApiProperty({ maxLength: 2048, description: 'Access JWT of the application, scoped to its company' })
  access_token: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type: 'Bearer';

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 86_400,
    description: 'Seconds until the token expires',
    example: 900,
  })
  expires_in: number;
}

export const OAUTH_ERRORS = [
  'invalid_request',
  'invalid_client',
  'unsupported_grant_type',
  'invalid_scope',
] as const;

/** An error of the token endpoint: problem+json with RFC 6749 §5.2's `error` and `error_description`. */
export class OAuthProblemDto extends ProblemDto {
  @ApiProperty({ enum: OAUTH_ERRORS, description: 'RFC 6749 §5.2 error code' })
  error: (typeof OAUTH_ERRORS)[number];

  @ApiProperty({ maxLength: 500, description: 'What went wrong (the same text as `detail`)' })
  error_description: string;
}
