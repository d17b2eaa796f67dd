import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../../authz/roles.js';
import { Optional } from '../../common/dto/optional.js';
import { IsId } from '../../common/dto/uuid.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lower = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export class RegisterDto {
  /** Lower-cased; must not belong to an existing account. */
  @Transform(lower)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email: string;

  /** At least 12 characters. */
  @IsString()
  @MinLength(PASSWORD_MIN, { message: `password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX })
  password: string;

  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /** The new company's name; its slug is derived from it. */
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  companyName: string;
}

export class LoginDto {
  @Transform(lower)
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  email: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX)
  @ApiProperty({ maxLength: PASSWORD_MAX })
  password: string;

  /** Sign in to this company (else the user's first company). */
  @Optional()
  @Transform(lower)
  @IsString()
  @Matches(/^[a-z0-9-]{1,80}$/, { message: 'companySlug must be a company slug' })
  @ApiPropertyOptional({ maxLength: 80, pattern: '^[a-z0-9-]{1,80}$' })
  companySlug?: string;
}

export class RefreshDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken: string;
}

export class LogoutDto {
  /** Revoke this token's family; without it, the family of the access token's session. */
  @Optional()
  @IsString()
  @MaxLength(200)
  refreshToken?: string;
}

export class SwitchCompanyDto {
  @IsId({ message: 'companyId must be a UUID' })
  companyId: string;
}

export class TokenPairDto {
  @ApiProperty({ maxLength: 2048, description: 'Access JWT (≤ 15 minutes)' })
  accessToken: string;

  @ApiProperty({ maxLength: 200, description: 'Opaque, rotating refresh token' })
  refreshToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 86_400,
    description: 'Seconds until the access token expires',
    example: 900,
  })
  expiresIn: number;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 320 })
  email: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty()
  platformAdmin: boolean;
}

export class CompanyRefDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 80 })
  slug: string;
}

export class SessionDto extends TokenPairDto {
  @ApiProperty({ type: UserDto })
  user: UserDto;

  @ApiProperty({ type: CompanyRefDto })
  company: CompanyRefDto;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class MembershipRefDto {
  @ApiProperty({ format: 'uuid' })
  companyId: string;

  @ApiProperty({ maxLength: 200 })
  companyName: string;

  @ApiProperty({ maxLength: 80 })
  companySlug: string;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class MeDto {
  @ApiPropertyOptional({ type: UserDto, nullable: true, description: 'Absent for application principals' })
  user: UserDto | null;

  @ApiProperty({ type: CompanyRefDto })
  company: CompanyRefDto;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ enum: ['user', 'api_key', 'application', 'platform_admin'] })
  principalType: string;

  @ApiProperty({ format: 'uuid' })
  principalId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The operator, on a platform switch-in' })
  operatorId?: string;

  @ApiPropertyOptional({
    enum: ['read', 'write'],
    description: 'On a platform switch-in: `read` (every non-read action is refused) or `write`',
  })
  operatorMode?: 'read' | 'write';

  @ApiProperty({ maxItems: 1000, type: [MembershipRefDto] })
  memberships: MembershipRefDto[];

  @ApiProperty({
    type: [String],
    maxItems: 500,
    description:
      "Effective permissions in the active company: the role's ∪ the groups' (or a credential's scope)",
  })
  permissions: string[];

  @ApiProperty({ type: [String], maxItems: 500, description: 'Keys of the groups the caller belongs to' })
  groups: string[];
}
