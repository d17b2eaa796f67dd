import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '../errors/app-error.js';

export class FieldErrorDto {
  @ApiProperty({ maxLength: 200, example: 'email' })
  field: string;

  @ApiProperty({ maxLength: 1000, example: 'email must be an email' })
  message: string;

  @ApiPropertyOptional({
    maxLength: 50,
    example: 'credit_card',
    description: 'DLP_BLOCKED: the detector that matched',
  })
  detector?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    example: 'input.customer.card',
    description: 'DLP_BLOCKED: the field path (as `field`); the matched value is never echoed',
  })
  path?: string;
}

/** RFC 9457 problem details (`application/problem+json`). */
export class ProblemDto {
  @ApiProperty({ format: 'uri', maxLength: 200, example: 'https://tenantry.dev/problems/not-found' })
  type: string;

  @ApiProperty({ maxLength: 100, example: 'Not Found' })
  title: string;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 400, maximum: 599, example: 404 })
  status: number;

  @ApiProperty({ maxLength: 2000, example: 'Connector not found' })
  detail: string;

  @ApiProperty({ enum: ERROR_CODES, example: 'NOT_FOUND' })
  code: ErrorCode;

  @ApiProperty({ maxLength: 128, example: '0193a8b2-7c1e-7f3a-9d2b-4e5f6a7b8c9d' })
  requestId: string;

  @ApiPropertyOptional({ maxItems: 101, type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    enum: ['company', 'user', 'ip', 'operator', 'authfail'],
    description:
      "On a 429 `RATE_LIMITED`: the rate-limit policy that refused the request (`company`: the company's limit; `user`: your own limit in the company; the others: per address or operator)",
  })
  policy?: string;
}
