import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  IsString,
  Matches,
  MaxLength,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { JSON_VALUE_SCHEMA } from '../../common/dto/json-value.js';
import { PageQueryDto } from '../../common/pagination.js';
import type { JsonValue } from '../../templates/definition.js';
import {
  ENDPOINT_URL_MAX,
  HEADER_NAME_MAX,
  parseAuthScheme,
  parseEndpointUrl,
  SECRET_MAX_BYTES,
  TOOL_ID_MAX,
  TOOL_ID_PATTERN,
} from '../connector-rules.js';
import { Optional, OptionalOrNull } from '../../common/dto/optional.js';

/** `header:` and a header name of at most HEADER_NAME_MAX characters. */
const AUTH_SCHEME_MAX = 'header:'.length + HEADER_NAME_MAX;
const AUTH_SCHEME_PATTERN = "^(none|bearer|basic|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";
const TOOL_ID_MESSAGE = 'toolId must be lowercase and dotted, like crm.lookup';
const TOOL_ID_DOC = { pattern: TOOL_ID_PATTERN.source, maxLength: TOOL_ID_MAX, example: 'crm.lookup' };

/** A custom rule whose message comes from a pure function (`undefined` = valid). Never echoes the value. */
function Rule(name: string, problem: (value: unknown) => string | undefined, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args) => problem(args?.value) ?? `${propertyName} is invalid`,
      },
    });
}

const endpointUrlProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'endpointUrl must be a string';
  const parsed = parseEndpointUrl(value);
  return 'error' in parsed ? parsed.error : undefined;
};

const authSchemeProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'authScheme must be a string';
  const parsed = parseAuthScheme(value);
  return 'error' in parsed ? parsed.error : undefined;
};

const secretSizeProblem = (value: unknown): string | undefined =>
  typeof value === 'string' && Buffer.byteLength(value, 'utf8') > SECRET_MAX_BYTES
    ? `secret must be at most ${SECRET_MAX_BYTES} bytes`
    : undefined;

export class CreateConnectorDto {
  /** The tool id runs call (`crm.lookup`): lowercase, dotted, unique in the company. */
  @ApiProperty(TOOL_ID_DOC)
  @IsString()
  @MaxLength(TOOL_ID_MAX)
  @Matches(TOOL_ID_PATTERN, { message: TOOL_ID_MESSAGE })
  toolId: string;

  /** Absolute http(s) URL without credentials; https only in production. Called with POST and a JSON body. */
  @ApiProperty({ maxLength: ENDPOINT_URL_MAX, format: 'uri' })
  @Rule('endpointUrl', endpointUrlProblem)
  endpointUrl: string;

  /** `none`, `bearer`, `basic` (secret `user:password`) or `header:<name>` (secret sent as that header). */
  @ApiProperty({ example: 'bearer', maxLength: AUTH_SCHEME_MAX, pattern: AUTH_SCHEME_PATTERN })
  @Rule('authScheme', authSchemeProblem)
  authScheme: string;

  /** Write-only: never returned. At most 8 KiB. */
  @ApiPropertyOptional({ type: String, nullable: true, writeOnly: true, maxLength: SECRET_MAX_BYTES })
  @OptionalOrNull()
  @IsString({ message: 'secret must be a string' })
  @Rule('secretSize', secretSizeProblem)
  secret?: string | null;
}

export class UpdateConnectorDto {
  @ApiPropertyOptional(TOOL_ID_DOC)
  @Optional()
  @IsString()
  @MaxLength(TOOL_ID_MAX)
  @Matches(TOOL_ID_PATTERN, { message: TOOL_ID_MESSAGE })
  toolId?: string;

  /** Changing the endpoint's origin (scheme, host, port) of a connector with a secret requires `secret` too. */
  @ApiPropertyOptional({ maxLength: ENDPOINT_URL_MAX, format: 'uri' })
  @Optional()
  @Rule('endpointUrl', endpointUrlProblem)
  endpointUrl?: string;

  @ApiPropertyOptional({ example: 'bearer', maxLength: AUTH_SCHEME_MAX, pattern: AUTH_SCHEME_PATTERN })
  @Optional()
  @Rule('authScheme', authSchemeProblem)
  authScheme?: string;

  /** Write-only. A string sets or replaces the secret, `null` clears it, absent leaves it unchanged. */
  @ApiPropertyOptional({ type: String, nullable: true, writeOnly: true, maxLength: SECRET_MAX_BYTES })
  @OptionalOrNull()
  @IsString({ message: 'secret must be a string or null' })
  @Rule('secretSize', secretSizeProblem)
  secret?: string | null;
}

export class ListConnectorsQueryDto extends PageQueryDto {
  /** Only the connector bound to this tool id. */
  @ApiPropertyOptional(TOOL_ID_DOC)
  @Optional()
  @IsString()
  @MaxLength(TOOL_ID_MAX)
  @Matches(TOOL_ID_PATTERN, { message: TOOL_ID_MESSAGE })
  toolId?: string;
}

export class TestConnectorDto {
  /** The JSON body to send (default `{"ping": true}`). */
  @ApiPropertyOptional({
    ...JSON_VALUE_SCHEMA,
    nullable: true,
    description: 'Any JSON value; default {"ping": true}',
  })
  @Allow()
  input?: JsonValue;
}

export class ConnectorDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: TOOL_ID_MAX })
  toolId: string;

  @ApiProperty({ format: 'uri', maxLength: ENDPOINT_URL_MAX })
  endpointUrl: string;

  @ApiProperty({ maxLength: AUTH_SCHEME_MAX, example: 'bearer' })
  authScheme: string;

  /** Whether a secret is stored. The secret itself is never returned. */
  hasSecret: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the secret was last set',
  })
  secretSetAt: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ToolCallErrorDto {
  @ApiProperty({
    enum: ['not_bound', 'refused', 'timeout', 'network', 'http_status', 'response_too_large', 'bad_response'],
  })
  reason: string;

  /** What went wrong; never contains the secret or the response body. */
  @ApiProperty({ maxLength: 1000 })
  message: string;

  /** Whether retrying could help (timeouts, network errors, 429 and 5xx). */
  retryable: boolean;
}

export class ConnectorTestResultDto {
  /** True when the endpoint answered 2xx with JSON (or an empty body). */
  ok: boolean;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 100,
    maximum: 599,
    nullable: true,
    description: 'HTTP status, null when no response arrived',
  })
  status: number | null;

  durationMs: number;

  @ApiPropertyOptional({ type: ToolCallErrorDto })
  error?: ToolCallErrorDto;
}
