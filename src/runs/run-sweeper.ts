import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LockMode, MikroORM } from '@mikro-orm/postgresql';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { TENANT_FILTER } from '../tenancy/tenant.entity.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { RunClaims } from './run-claims.js';
import { retryTransient, workerContext } from './run-engine.js';
import { RunTransitions } from './run-transitions.js';
import { Run, RUN_SWEEP_SETTING } from './run.entity.js';

const TASK = 'runs.sweep';
const SWEEP_EVERY_MS = 5_000;
const BATCH = 100;

/**
 * Recovers runs whose worker died: `running` with an expired lease. Runs as a scheduler task in every process
 * with a worker (several sweepers at once are fine: each recovery re-checks the run under the company lock).
 */
@Injectable()
export class RunLeaseSweeper implements OnModuleInit {
  private readonly logger = new Logger('RunLeaseSweeper');

  constructor(
    private readonly orm: MikroORM,
    private readonly tenancy: TenancyService,
    private readonly claims: RunClaims,
    private readonly transitions: RunTransitions,
    private readonly scheduler: Scheduler,
  ) {}

  onModuleInit(): void {
    this.scheduler.register(TASK, SWEEP_EVERY_MS, () => this.sweep());
  }

  /**
   * The runs to recover, across companies, through the one side door of the `runs` table: a fork whose session
   * carries `app.run_sweep = 'on'`, which row-level security answers with `running` runs whose lease has
   * expired, and nothing else (read-only; no company setting, so the tenant policy admits no row). The tenant
   * filter is off for this one query, which reads ids only; everything else happens in each run's own company.
   */
  async expiredLeases(limit = BATCH): Promise<{ id: string; companyId: string }[]> {
    const em = this.orm.em.fork({
      clear: true,
      disableContextResolution: true,
      session: { variables: { [RUN_SWEEP_SETTING]: 'on' } },
    });
    const rows = await em.find(
      Run,
      { status: 'running', leaseExpiresAt: { $lt: new Date() } },
      {
        filters: { [TENANT_FILTER]: false },
        fields: ['id', 'companyId'],
        orderBy: { leaseExpiresAt: 'asc' },
        limit,
      },
    );
    return rows.map((r) => ({ id: r.id, companyId: r.companyId }));
  }

  /** Recovers every run found (queued again with a recorded retry, or failed); returns their ids. */
  async sweep(): Promise<string[]> {
    const recovered: string[] = [];
    for (const { id, companyId } of await this.expiredLeases()) {
      try {
        const done = await retryTransient(() =>
          this.tenancy.run(workerContext(companyId), (em) =>
            em.transactional(async (tx) => {
              await this.claims.lockCompany(tx, companyId);
              const run = await tx.findOne(
                Run,
                { id },
                { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
              );
              // Re-checked under the lock: renewed, or recovered by another sweeper, in the meantime.
              if (
                !run ||
                run.status !== 'running' ||
                !run.leaseExpiresAt ||
                run.leaseExpiresAt > new Date()
              ) {
                return false;
              }
              await this.transitions.recover(tx, run, { enqueue: true });
              return true;
            }),
          ),
        );
        if (done) {
          recovered.push(id);
          this.logger.warn(`recovered run ${id} of company ${companyId}: its worker's lease expired`);
        }
      } catch (e) {
        this.logger.error(`recovering run ${id} failed: ${(e as Error).message}`);
      }
    }
    return recovered;
  }
}
