import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ROLES, type Role } from '../../authz/roles.js';
import { Optional, OptionalOrNull } from '../../common/dto/optional.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export const DEFAULT_EXPIRY_DAYS = 90;
export const MAX_EXPIRY_DAYS = 365;
export const DEFAULT_OVERLAP_HOURS = 24;
export const MAX_OVERLAP_HOURS = 168;

export class CreateApiKeyDto {
  /** What the key is for (shown in lists). */
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  /** The most the key may do; no higher than the caller's own role (403 otherwise). */
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;

  /**
   * Days until the key expires: 1–365, default 90. `null` asks explicitly for a key that never expires.
   */
  @ApiPropertyOptional({
    format: 'int32',
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: 365,
    default: 90,
  })
  @OptionalOrNull()
  @IsInt({ message: 'expiresInDays must be an integer between 1 and 365, or null' })
  @Min(1, { message: 'expiresInDays must be an integer between 1 and 365, or null' })
  @Max(MAX_EXPIRY_DAYS, { message: 'expiresInDays must be an integer between 1 and 365, or null' })
  expiresInDays?: number | null;

  /**
   * A scoped credential: the permissions it may use (each held by you now, else 403). In use it acts with this
   * list ∩ your current effective permissions ∩ its role's. Absent: its role alone.
   */
  @ApiPropertyOptional({ type: [String], maxItems: 200, example: ['runs:read', 'runs:create'] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions?: string[];
}

export class RevokeApiKeyDto {
  /** Why the key is revoked (written to the audit trail). Send it here or as `?reason=`. */
  @Optional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason?: string;
}

export class RevokeApiKeyQueryDto {
  /** Why the key is revoked, when the client cannot send a body with DELETE. */
  @Optional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason?: string;
}

export class RotateApiKeyDto {
  /** Hours the old key stays valid beside the new one: 0–168, default 24 (0 ends it at once). */
  @ApiPropertyOptional({ format: 'int32', type: 'integer', minimum: 0, maximum: 168, default: 24 })
  @Optional()
  @IsInt({ message: 'overlapHours must be an integer between 0 and 168' })
  @Min(0, { message: 'overlapHours must be an integer between 0 and 168' })
  @Max(MAX_OVERLAP_HOURS, { message: 'overlapHours must be an integer between 0 and 168' })
  overlapHours?: number;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 100 })
  name: string;

  @ApiProperty({
    enum: ROLES,
    description: "The key's role; in use, never more than its creator's current role",
  })
  role: Role;

  @ApiProperty({
    type: [String],
    nullable: true,
    maxItems: 200,
    description: 'Scoped credential: the permissions it may use (null: its role alone)',
  })
  permissions: string[] | null;

  @ApiProperty({
    maxLength: 64,
    example: 'sk_live_…a1b2',
    description: 'The key masked to its last four characters',
  })
  maskedKey: string;

  @ApiProperty({ enum: ['active', 'expired', 'revoked'] })
  status: 'active' | 'expired' | 'revoked';

  @ApiProperty({ format: 'uuid', description: 'The user whose authority the key carries' })
  createdBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null: never expires' })
  expiresAt: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Recorded in batches: may lag real use by up to a minute',
  })
  lastUsedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;

  @ApiProperty({ maxLength: 500, type: String, nullable: true })
  revokedReason: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The key this one replaced' })
  rotatedFromId: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The key that replaced this one',
  })
  replacedById: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    maxLength: 128,
    example: 'sk_live_3kTMd9Qx8vYb2LpRz7WnHc4JfGs1Ae_2bXk9Q',
    description: 'The key itself. Shown once: only its hash is stored',
  })
  key: string;
}

export class RotatedApiKeyDto extends CreatedApiKeyDto {
  @ApiProperty({ type: ApiKeyDto, description: 'The old key, valid until its new `expiresAt`' })
  previous: ApiKeyDto;
}
