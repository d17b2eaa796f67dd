import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  /** Migrations applied (readiness only). */
  @ApiProperty({ required: false })
  migrations?: number;
}
