import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_ACTION_PATTERN } from '../audit-actions.js';
import type { ActorType } from '../audit-event.entity.js';
import { ACTOR_TYPES } from '../audit-record.js';
import { EXPORT_TRAILER_FORMAT, EXPORT_TRAILER_VERSION } from '../export-trailer.js';

export class AuditActorDto {
  @ApiProperty({ enum: ACTOR_TYPES })
  type: ActorType;

  /** A user id, an API key id, an application id, the operator's user id, or `system`. */
  @ApiProperty({ maxLength: 100 })
  id: string;

  /** For API keys: the user on whose behalf the key acts (its creator). */
  @ApiPropertyOptional({ format: 'uuid' })
  onBehalfOf?: string;
}

export class AuditTargetDto {
  /** The kind of thing acted on (`Company`, `Member`, `Connector`, …). */
  @ApiProperty({ maxLength: 50 })
  type: string;

  @ApiProperty({ maxLength: 100, type: String, nullable: true })
  id: string | null;
}

export class AuditContextDto {
  @ApiProperty({ maxLength: 128, type: String, nullable: true })
  requestId: string | null;

  @ApiProperty({ maxLength: 64, type: String, nullable: true })
  ip: string | null;

  @ApiProperty({ maxLength: 512, type: String, nullable: true })
  userAgent: string | null;
}

/**
 * One event of the company's hash chain, exactly as hashed and exported:
 * `hash = SHA-256(prevHash ‖ canonical JSON of this object without hash)`.
 */
export class AuditEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  companyId: string;

  /** Position in the company's chain: 1, 2, 3, … without gaps. */
  @ApiProperty({ minimum: 1 })
  seq: number;

  @ApiProperty({ format: 'date-time' })
  occurredAt: string;

  /** One of the documented actions (README, "Audit trail"), the features' included. */
  @ApiProperty({ pattern: AUDIT_ACTION_PATTERN, example: 'member.role_changed' })
  action: string;

  /** Version of this action's metadata shape. */
  @ApiProperty({ minimum: 1 })
  actionVersion: number;

  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;

  @ApiProperty({ type: AuditTargetDto, nullable: true })
  target: AuditTargetDto | null;

  @ApiProperty({ type: AuditContextDto })
  context: AuditContextDto;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;

  /** Hash of the previous event (64 zeros before the first). */
  @ApiProperty({ maxLength: 64, pattern: '^[0-9a-f]{64}$' })
  prevHash: string;

  @ApiProperty({ maxLength: 64, pattern: '^[0-9a-f]{64}$' })
  hash: string;
}

/** The result of recomputing the company's chain. */
export class AuditVerificationDto {
  /** True when every event's hash, link and seq check out and the chain ends at the head. */
  @ApiProperty()
  valid: boolean;

  /** Events examined. */
  @ApiProperty()
  checked: number;

  /** Seq of the chain head (the last appended event; 0 before any). */
  @ApiProperty()
  headSeq: number;

  /** Hash of the chain head: keep it to check later exports and verifications against. */
  @ApiProperty({ maxLength: 64, pattern: '^[0-9a-f]{64}$' })
  headHash: string;

  /** The first seq at which anything fails; absent when valid. */
  @ApiPropertyOptional()
  firstBrokenSeq?: number;

  /** What failed first; absent when valid. */
  @ApiPropertyOptional({ maxLength: 500 })
  reason?: string;
}

/**
 * What an NDJSON export holds, and the chain head when it started: the last line of every
 * `GET /v1/audit-events/export` response, so a saved file can be checked for completeness offline.
 */
export class AuditExportTrailerDto {
  @ApiProperty({ enum: [EXPORT_TRAILER_FORMAT] })
  format: typeof EXPORT_TRAILER_FORMAT;

  @ApiProperty({ enum: [EXPORT_TRAILER_VERSION] })
  version: number;

  @ApiProperty({ format: 'uuid' })
  companyId: string;

  @ApiProperty({ format: 'date-time' })
  exportedAt: string;

  /** The requested window (`from`, `to`) as given; null when open. */
  @ApiProperty({ maxLength: 35, type: String, nullable: true })
  from: string | null;

  @ApiProperty({ maxLength: 35, type: String, nullable: true })
  to: string | null;

  /** First and last seq of the export (both inclusive); null when it is empty. */
  @ApiProperty({ type: Number, nullable: true })
  firstSeq: number | null;

  @ApiProperty({ type: Number, nullable: true })
  lastSeq: number | null;

  /** Events in the export. */
  @ApiProperty({ minimum: 0 })
  count: number;

  /** Hash of the event at lastSeq; null when empty. */
  @ApiProperty({ maxLength: 64, type: String, nullable: true, pattern: '^[0-9a-f]{64}$' })
  lastHash: string | null;

  /** The company's chain head when the export started (the export reaches it unless `to` ends earlier). */
  @ApiProperty({ minimum: 0 })
  headSeq: number;

  @ApiProperty({ maxLength: 64, pattern: '^[0-9a-f]{64}$' })
  headHash: string;
}

/** The trailer line: one member, `trailer` (an event line never has it). */
export class AuditExportTrailerLineDto {
  @ApiProperty({ type: AuditExportTrailerDto })
  trailer: AuditExportTrailerDto;
}
