import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsString, MaxLength, MinLength } from 'class-validator';
import { CompanyRefDto } from '../../auth/dto/auth.dto.js';
import { Optional } from '../../common/dto/optional.js';
import { OPERATOR_MODES, type OperatorMode } from '../../tenancy/request-store.js';

export class SwitchInDto {
  /** Why the operator enters the company (≥ 10 characters); written to that company's audit trail. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(10, { message: 'reason must be at least 10 characters' })
  @MaxLength(500)
  reason: string;

  /**
   * `read` (the default: look only) or `write` (may also change data, as an admin). Under the company's
   * `approval` policy the approver sees it.
   */
  @ApiPropertyOptional({ enum: OPERATOR_MODES, default: 'read' })
  @Optional()
  @IsIn(OPERATOR_MODES, { message: 'mode must be read or write' })
  mode?: OperatorMode;
}

export class DirectoryEntryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 80 })
  slug: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class SwitchInTokenDto {
  @ApiProperty({
    maxLength: 2048,
    description: 'Access JWT scoped to the company, with an `act` claim naming the operator',
  })
  accessToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 3600,
    description: 'Seconds until it expires (≤ 3600)',
  })
  expiresIn: number;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ type: CompanyRefDto })
  company: CompanyRefDto;

  @ApiProperty({
    enum: OPERATOR_MODES,
    description:
      '`read`: every non-read action is refused under this token; `write`: admin rights (see Roles)',
  })
  mode: OperatorMode;
}
