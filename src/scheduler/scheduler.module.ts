import { Module } from '@nestjs/common';
import { Scheduler } from './scheduler.service.js';

/** The in-process scheduler (one instance per application): modules with periodic work import it. */
@Module({ providers: [Scheduler], exports: [Scheduler] })
export class SchedulerModule {}
