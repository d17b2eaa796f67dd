import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { CompanyRefDto } from '../../auth/dto/auth.dto.js';

export class SwitchInDto {
  /** Why the operator enters the company (≥ 10 characters); written to that company's audit trail. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(10, { message: 'reason must be at least 10 characters' })
  @MaxLength(500)
  reason: string;
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
}
