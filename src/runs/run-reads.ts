import { Injectable } from '@nestjs/common';
import { ScopedReader, type ScopedStatement } from '../tenancy/scoped-reader.js';
import type { RunDetailRecord, RunRecord, StepRecord, VerdictRecord } from './run-views.js';
import type { RunStatus } from './run.entity.js';

const PAGE: ScopedStatement = {
  name: 'tenant_runs_page',
  sql: 'select * from tenant_runs_page($1, $2, $3, $4, $5, $6)',
};
const ONE: ScopedStatement = { name: 'tenant_run', sql: 'select * from tenant_run($1, $2)' };

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
 * `ScopedReader` and the `tenant_runs_page` / `tenant_run` functions of migration `run_reads`: rows named
 * like the entity, no hydration. Scoped to the context's company by the function's predicate and by row-level
 * security inside it (test/runs-reads.e2e-spec.ts proves both).
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
