import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';
import { CompanyRefDto } from '../../auth/dto/auth.dto.js';
import { ROLES, type Role } from '../../authz/roles.js';
import { PageQueryDto } from '../../common/pagination.js';
import { Optional } from '../../common/dto/optional.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateApplicationDto {
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @Optional()
  @Transform(trim)
  @IsString()
  @MaxLength(1000)
  description?: string;

  /** The role of the application's access tokens (default `member`). */
  @ApiPropertyOptional({ enum: ROLES, default: 'member' })
  @Optional()
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role?: Role;

  /**
   * A scoped credential: the permissions its tokens may use (each held by you now, else 403). In use they act
   * with this list ∩ your current effective permissions ∩ the application's role's. Absent: its role alone.
   */
  @ApiPropertyOptional({ type: [String], maxItems: 200, example: ['runs:read'] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions?: string[];
}

export class UpdateApplicationDto {
  @Optional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  /** `null` clears it. */
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 1000 })
  @ValidateIf((_o, value) => value !== null && value !== undefined)
  @Transform(trim)
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  /** Applies to tokens issued from now on; tokens already issued keep their role until they expire. */
  @ApiPropertyOptional({ enum: ROLES })
  @Optional()
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role?: Role;
}

export class ApplicationListQueryDto extends PageQueryDto {
  /**
   * `company` (default): the applications of the caller's company. `account` (users only): the applications of
   * every company the user belongs to with the right to read them (admin or owner there), each with its company.
   */
  @ApiPropertyOptional({ enum: ['company', 'account'], default: 'company' })
  @Optional()
  @IsIn(['company', 'account'], { message: 'scope must be company or account' })
  scope?: 'company' | 'account';
}

export class ApplicationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 100 })
  name: string;

  @ApiProperty({ maxLength: 1000, type: String, nullable: true })
  description: string | null;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({
    type: [String],
    nullable: true,
    maxItems: 200,
    description: 'Scoped credential: the permissions its tokens may use (null: its role alone)',
  })
  permissions: string[] | null;

  @ApiProperty({
    maxLength: 100,
    example: 'app_4Fh2kLm9QwErT5yU8iOp3aSd',
    description: 'Public client identifier',
  })
  clientId: string;

  @ApiProperty({ format: 'uuid' })
  createdBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ format: 'date-time' })
  secretRotatedAt: string;

  @ApiPropertyOptional({ type: CompanyRefDto, description: 'The company, on `?scope=account` lists' })
  company?: CompanyRefDto;
}

export class ApplicationCredentialsDto extends ApplicationDto {
  @ApiProperty({ maxLength: 200, description: 'The client secret. Shown once: only its hash is stored' })
  clientSecret: string;
}
