import { BoardsModule } from '../boards/boards.module.js';
import { WikiModule } from '../wiki/wiki.module.js';
import { Module } from '@nestjs/common';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsService } from './analytics.service.js';

/** Analytics: read-only aggregates of the caller's company, from rollups the runs module keeps as runs change. */
// Usage counts wiki pages and cards through those features' services.
@Module({
  imports: [WikiModule, BoardsModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsService],
})
export class AnalyticsModule {}
