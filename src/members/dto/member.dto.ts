import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ROLES, type Role } from '../../authz/roles.js';
import { IsId } from '../../common/dto/uuid.js';

export class MemberDto {
  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ maxLength: 320 })
  email: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ format: 'date-time', description: 'When the user became a member' })
  joinedAt: string;
}

export class UpdateMemberDto {
  /** The new role: not above your own; the last owner cannot be demoted. */
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;
}

export class TransferOwnershipDto {
  /** The member who becomes owner; the caller becomes admin. */
  @IsId({ message: 'userId must be a UUID' })
  userId: string;
}

export class OwnershipTransferDto {
  @ApiProperty({ type: MemberDto, description: 'The new owner' })
  owner: MemberDto;

  @ApiProperty({ type: MemberDto, description: 'The previous owner, now admin' })
  previousOwner: MemberDto;
}
