import { MembersModule } from '../members/members.module.js';
import { Module } from '@nestjs/common';
import { AccountRunBudget } from '../accounts/account-run-budget.js';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { TemplatesModule } from '../templates/templates.module.js';
import { RunBudget } from './run-budget.js';
import { RunClaims } from './run-claims.js';
import { RunDecisionsService } from './run-decisions.service.js';
import { RunConnectorCall } from './run-connector-call.js';
import { RunEngine } from './run-engine.js';
import { RunLeases } from './run-leases.js';
import { RunQueue } from './run-queue.js';
import { RunReads } from './run-reads.js';
import { RunStepper } from './run-stepper.js';
import { RunTransitions } from './run-transitions.js';
import { RunWorker } from './run-worker.js';
import { RunsController } from './runs.controller.js';
import { RunsService } from './runs.service.js';

/**
 * Runs: starting (budget, idempotency, the job in the same transaction), the background worker (pg-boss queue,
 * exact per-company caps, leases and the recovery of runs whose worker died), verdicts and cancellation, and the history.
 */
@Module({
  imports: [TemplatesModule, ConnectorsModule, IdempotencyModule, SchedulerModule, MembersModule],
  controllers: [RunsController],
  providers: [
    RunsService,
    RunDecisionsService,
    RunBudget,
    AccountRunBudget,
    RunClaims,
    RunTransitions,
    RunQueue,
    RunLeases,
    RunConnectorCall,
    RunStepper,
    RunEngine,
    RunWorker,
    RunReads,
  ],
  exports: [RunWorker, RunQueue],
})
export class RunsModule {}
