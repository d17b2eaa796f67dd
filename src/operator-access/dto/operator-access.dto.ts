import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/pagination.js';
import { OPERATOR_MODES, type OperatorMode } from '../../tenancy/request-store.js';
import type { AccessRequestStatus } from '../operator-access-request.entity.js';

export const ACCESS_REQUEST_STATUSES = ['pending', 'approved', 'denied', 'redeemed', 'expired'] as const;

export class OperatorRefDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 320 })
  email: string;
}

/** A platform operator's request to switch into the company (the `approval` policy). */
export class OperatorAccessRequestDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: OperatorRefDto, description: 'Who asks to switch in' })
  operator: OperatorRefDto;

  @ApiProperty({ maxLength: 500, description: "The operator's reason" })
  reason: string;

  @ApiProperty({
    enum: OPERATOR_MODES,
    description: '`read` (look only) or `write` (may also change data, as an admin)',
  })
  mode: OperatorMode;

  @ApiProperty({
    enum: ACCESS_REQUEST_STATUSES,
    description:
      '`pending` → `approved` → `redeemed` (the operator obtained the token), or `denied`; `expired` once its window passed',
  })
  status: AccessRequestStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({
    format: 'date-time',
    description:
      'Pending: until when it may be decided. Approved or redeemed: when the switch-in ends (≤ 60 min after approval)',
  })
  expiresAt: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The admin who decided it' })
  decidedBy: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  decidedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  redeemedAt: string | null;
}

export class ListAccessRequestsQueryDto extends PageQueryDto {
  /** Only requests in this status (as of now). */
  @ApiPropertyOptional({ enum: ACCESS_REQUEST_STATUSES })
  @IsOptional()
  @IsIn(ACCESS_REQUEST_STATUSES, { message: `status must be one of ${ACCESS_REQUEST_STATUSES.join(', ')}` })
  status?: AccessRequestStatus;
}
