import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MikroORM } from '@mikro-orm/postgresql';
import { appliedMigrationNames } from '../database/statements/applied-migrations.js';
import { ProblemResponse, Public } from '../authz/authorize.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { MIGRATIONS } from '../database/migrations/index.js';
import { CompanyWriteGate, WRITE_GATE } from '../tenancy/company-write-gate.js';
import { HealthDto } from './dto/health.dto.js';

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly orm: MikroORM,
    @Inject(WRITE_GATE) private readonly writeGate: CompanyWriteGate,
  ) {}

  @Get('live')
  @Public()
  @ApiOperation({ operationId: 'Health_live', summary: 'The process is up' })
  @ApiOkResponse({ type: HealthDto })
  live(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    operationId: 'Health_ready',
    summary:
      'The database answers and every migration this build knows has been applied; with the write gate occupancy',
  })
  @ApiOkResponse({ type: HealthDto })
  @ProblemResponse(503, 'Database unreachable or migrations pending')
  async ready(): Promise<HealthDto> {
    let applied: Set<string>;
    try {
      applied = await appliedMigrationNames(this.orm);
    } catch {
      throw new AppError(503, 'INTERNAL', 'The database is not reachable');
    }
    const missing = MIGRATIONS.filter((m) => !applied.has(m.name));
    if (missing.length > 0) {
      throw new AppError(503, 'INTERNAL', `${missing.length} migration(s) not applied: run npm run migrate`);
    }
    return { status: 'ok', migrations: MIGRATIONS.length, writeGate: this.writeGate.occupancy() };
  }
}
