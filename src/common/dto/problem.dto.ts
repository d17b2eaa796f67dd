import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '../errors/app-error.js';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field: string;

  @ApiProperty({ example: 'email must be an email' })
  message: string;
}

/** RFC 9457 problem details (`application/problem+json`). */
export class ProblemDto {
  @ApiProperty({ example: 'https://tenantry.dev/problems/not-found' })
  type: string;

  @ApiProperty({ example: 'Not Found' })
  title: string;

  @ApiProperty({ example: 404 })
  status: number;

  @ApiProperty({ example: 'Connector not found' })
  detail: string;

  @ApiProperty({ enum: ERROR_CODES, example: 'NOT_FOUND' })
  code: ErrorCode;

  @ApiProperty({ example: '0193a8b2-7c1e-7f3a-9d2b-4e5f6a7b8c9d' })
  requestId: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
