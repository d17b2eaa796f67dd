import type { JsonValue, ToolStep } from '../templates/definition.js';
import { systemContext, type TenantContext } from '../tenancy/request-store.js';

/** What a worker lends the engine while it executes a run. */
export interface RunWorkerHandle {
  /** Identifies the worker in the lease of the runs it claims (`<instanceId>#<claim>`). */
  readonly instanceId: string;
  readonly settings: RunExecutionSettings;
  /** True once the worker is shutting down: runs are handed back between steps. */
  readonly stopping: boolean;
  /** Registers the controller that aborts the run's in-flight call (cancel, lost lease, forced stop). */
  track(runId: string, controller: AbortController): void;
  untrack(runId: string): void;
}

export interface RunExecutionSettings {
  /** How long a claim holds without renewal; renewed every third of it while the run executes. */
  leaseMs: number;
  /** How long a job waits when the company's cap is full. */
  deferMs: number;
  /** Backoff between attempts of a tool step: base × 2^(attempt − 1), capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * How long a run waits, handed back to the queue, when its connector's secret cannot be decrypted for a
   * reason that can pass (this process holds another master key than the one in use); default 60 s.
   */
  unavailableRetryMs?: number;
}

export const DEFAULT_UNAVAILABLE_RETRY_MS = 60_000;

/** Why an in-flight call was abandoned. */
export class RunAbort extends Error {
  constructor(readonly why: 'cancelled' | 'lease_lost' | 'worker_stopped') {
    super(`run execution aborted: ${why}`);
    this.name = 'RunAbort';
  }
}

/** The tenant context of background work: the system principal of the run's own company. */
export function workerContext(companyId: string): TenantContext {
  return systemContext(companyId, 'worker', 'owner');
}

/** A run this worker claimed, named by the job that carried it. */
export interface Claimed {
  companyId: string;
  runId: string;
  /**
   * This claim's lease token (`leaseOwner`): the worker's id plus a fresh suffix, so that even the same worker
   * claiming a run again (after its own lease expired) fences out its earlier execution.
   */
  lease: string;
}

export type CallAction = {
  kind: 'call';
  step: ToolStep;
  stepIndex: number;
  attempt: number;
  input: JsonValue;
};
/** What the loop does next: call the connector, wait and try the step again, or stop (parked, ended, lost). */
export type NextAction = { kind: 'stop' } | CallAction | { kind: 'retry'; attempt: number };
