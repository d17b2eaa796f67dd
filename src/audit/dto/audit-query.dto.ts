import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';
import { CanonicalIfUuid } from '../../common/dto/uuid.js';
import { PageQueryDto } from '../../common/pagination.js';
import { AUDIT_ACTION_PATTERN, isAuditAction, type AuditAction } from '../audit-actions.js';
import type { ActorType } from '../audit-event.entity.js';
import { ACTOR_TYPES } from '../audit-record.js';

const ISO = { strict: true, strictSeparator: true };
const ISO_MESSAGE = (field: string) => `${field} must be an ISO 8601 timestamp`;

/** `?from=&to=`: a time range on `occurredAt`, both ends inclusive; `from` must not be after `to`. */
export class AuditTimeRangeDto {
  /** Events that occurred at or after this time (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601(ISO, { message: ISO_MESSAGE('from') })
  from?: string;

  /** Events that occurred at or before this time (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601(ISO, { message: ISO_MESSAGE('to') })
  to?: string;
}

/** Filters of `GET /v1/audit-events`, newest first. */
export class AuditQueryDto extends IntersectionType(PageQueryDto, AuditTimeRangeDto) {
  /**
   * Exact action, e.g. `member.role_changed`: any action of the catalogue, the features' included (README, "Audit
   * trail"). Checked when the request is validated, after every feature has registered its actions.
   */
  @ApiPropertyOptional({ pattern: AUDIT_ACTION_PATTERN, example: 'member.role_changed' })
  @IsOptional()
  @ValidateBy({
    name: 'isAuditAction',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isAuditAction(value),
      defaultMessage: () => 'action must be one of the audit actions, like member.role_changed',
    },
  })
  action?: AuditAction;

  @ApiPropertyOptional({ enum: ACTOR_TYPES })
  @IsOptional()
  @IsIn(ACTOR_TYPES, { message: `actorType must be one of ${ACTOR_TYPES.join(', ')}` })
  actorType?: ActorType;

  /** A user, API key or application id (for a switched-in operator: their user id), or `system`. */
  @ApiPropertyOptional()
  @IsOptional()
  @CanonicalIfUuid()
  @IsString()
  @MaxLength(100)
  actorId?: string;

  /** The kind of thing acted on, e.g. `Member`. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(50)
  targetType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @CanonicalIfUuid()
  @IsString()
  @MaxLength(100)
  targetId?: string;
}

/** `GET /v1/audit-events/export`: the contiguous piece of the chain between `from` and `to`. */
export class AuditExportQueryDto extends AuditTimeRangeDto {}
