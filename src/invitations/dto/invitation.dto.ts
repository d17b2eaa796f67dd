import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsString, MaxLength, MinLength } from 'class-validator';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../auth/dto/auth.dto.js';
import { ROLES, type Role } from '../../authz/roles.js';
import { PageQueryDto } from '../../common/pagination.js';
import { INVITATION_STATUSES, type InvitationStatus } from '../invitation.entity.js';
import { Optional } from '../../common/dto/optional.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lower = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

export class CreateInvitationDto {
  /** Lower-cased; the invitation can only be accepted by this address. */
  @Transform(lower)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email: string;

  /** Not above your own role. */
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;
}

export class ListInvitationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INVITATION_STATUSES })
  @Optional()
  @IsIn(INVITATION_STATUSES, { message: `status must be one of ${INVITATION_STATUSES.join(', ')}` })
  status?: InvitationStatus;
}

export class InvitationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 320 })
  email: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ enum: INVITATION_STATUSES })
  status: InvitationStatus;

  @ApiProperty({ format: 'uuid', description: 'The principal that invited' })
  invitedBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ format: 'date-time', description: 'When the latest link was queued for delivery' })
  lastSentAt: string;

  @ApiProperty({ description: 'How often it was re-sent (each time with a new link)' })
  resendCount: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  acceptedAt: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The user who joined with it' })
  acceptedBy: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;
}

export class AcceptInvitationDto {
  /** The `inv_…` token from the invitation link. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token: string;

  /**
   * A new account's password (≥ 12 characters), or, not signed in, the existing account's own; a signed-in user
   * sends none.
   */
  @Optional()
  @IsString()
  @MinLength(PASSWORD_MIN, { message: `password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  @ApiPropertyOptional({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX })
  password?: string;

  /** For a new account only: the person's name. */
  @Optional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;
}
