import { ApiProperty } from '@nestjs/swagger';

/** Company write gate occupancy, all companies together (no company is named). */
export class WriteGateOccupancyDto {
  /** Companies with a write running or waiting. */
  companies: number;
  /** Write slots in use. */
  active: number;
  /** Writes waiting for a slot. */
  waiting: number;
  /** Slots per company. */
  perCompany: number;
}

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  /** Migrations applied (readiness only). */
  @ApiProperty({ required: false })
  migrations?: number;

  /** Write gate occupancy (readiness only). */
  @ApiProperty({ required: false, type: () => WriteGateOccupancyDto })
  writeGate?: WriteGateOccupancyDto;
}
