import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * The token request (RFC 6749 §4.4.2), as `application/x-www-form-urlencoded` or JSON. Client credentials go
 * either in an HTTP Basic `Authorization` header (§2.3.1) or as `client_id`/`client_secret` here, not both.
 */
export class OAuthTokenRequestDto {
  @ApiProperty({ enum: ['client_credentials'] })
  grant_type: string;

  @ApiPropertyOptional({ description: 'When not sent with HTTP Basic' })
  client_id?: string;

  @ApiPropertyOptional({ description: 'When not sent with HTTP Basic' })
  client_secret?: string;

  @ApiPropertyOptional({ description: 'No scopes are defined: omit it or send it empty' })
  scope?: string;
}

/** RFC 6749 §5.1 (its field names, which OAuth clients expect). */
export class OAuthTokenDto {
  @ApiProperty({ description: 'Access JWT of the application, scoped to its company' })
  access_token: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 900 })
  expires_in: number;
}
