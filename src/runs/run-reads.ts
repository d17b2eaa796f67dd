import { Injectable } from '@nestjs/common';
import { ScopedReader, type ScopedFunction } from '../tenancy/scoped-reader.js';
import type { RunDetailRecord, RunRecord, StepRecord, VerdictRecord } from './run-views.js';
import type { RunStatus } from './run.entity.js';

/** The functions of `RUN_READ_FUNCTIONS` (./run-reads.sql.ts), installed by migration. */
const PAGE: ScopedFunction = { name: 'tenant_runs_page', arity: 5 };
const ONE: ScopedFunction = { name: 'tenant_run', arity: 1 };

export interface RunPageQuery {
  /** Keyset: only runs with a smaller id (older). */
  before: string | undefined;
  limit: number;
  status?: RunStatus;
  templateId?: string;
  startedBy?: string;
}

/**
 * The hot reads of runs (the list and one run with its steps and verdicts), one round trip each through
 * `ScopedReader` and the `tenant_runs_page` / `tenant_run` functions defined in ./run-reads.sql.ts: rows named
 * like the entity, no hydration. Scoped to the context's company by the function's predicate and by row-level
 * security inside it on the transaction's company setting (test/run-reads.e2e-spec.ts proves both).
 */
@Injectable()
export class RunReads {
  constructor(private readonly reader: ScopedReader) {}

  page(query: RunPageQuery): Promise<RunRecord[]> {
    return this.reader.rows<RunRecord>(PAGE, [
      query.before ?? null,
      query.limit,
      query.status ?? null,
      query.templateId ?? null,
      query.startedBy ?? null,
    ]);
  }

  async one(
    id: string,
  ): Promise<{ run: RunDetailRecord; steps: StepRecord[]; verdicts: VerdictRecord[] } | null> {
    const [row] = await this.reader.rows<
      RunDetailRecord & { steps: StepRecord[]; verdicts: VerdictRecord[] }
    >(ONE, [id]);
    if (!row) return null;
    const { steps, verdicts, ...run } = row;
    return { run, steps, verdicts };
  }
}
