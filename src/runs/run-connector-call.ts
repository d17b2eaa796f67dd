import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CONNECTOR_INVOKER,
  ToolCallError,
  type ConnectorInvoker,
  type ToolResult,
} from '../connectors/connector-invoker.js';
import { SecretUnavailableError } from '../crypto/keyring.service.js';
import type { Hit, DlpScope } from '../dlp/dlp-scan.js';
import { DlpService } from '../dlp/dlp.service.js';
import { RunAbort, type CallAction, type Claimed } from './run-execution.js';
import { RunLeases } from './run-leases.js';

/** What DLP found in a call's payload or answer (written with the outcome, in its transaction). */
export interface DlpFound {
  scope: DlpScope;
  hits: Hit[];
}

export type CallOutcome =
  | { kind: 'ok'; result: ToolResult; ms: number; dlp: DlpFound[] }
  /** DLP refused the step's payload (never sent: no `ms`) or the connector's answer (not stored). */
  | { kind: 'dlp_blocked'; blocked: DlpFound; dlp: DlpFound[]; ms?: number }
  | { kind: 'error'; error: ToolCallError; ms: number }
  | { kind: 'aborted'; why: RunAbort['why'] }
  | { kind: 'fault'; message: string; ms: number }
  /** The call could not be made for a reason expected to pass (the secret, under another master key). */
  | { kind: 'unavailable'; message: string };

/** Resolves with the call, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Owns one attempt's call of a tool step's connector: DLP on the payload and on the answer, the abortable
 * request itself, and the translation of whatever happened into a {@link CallOutcome}. It writes nothing: the
 * engine records the outcome in a transaction of its own.
 */
@Injectable()
export class RunConnectorCall {
  // The engine's name, as before these pieces were split out of it: its log lines read the same.
  private readonly logger = new Logger('RunEngine');

  constructor(
    private readonly leases: RunLeases,
    @Inject(CONNECTOR_INVOKER) private readonly invoker: ConnectorInvoker,
    private readonly dlp: DlpService,
  ) {}

  /** One call of the step's connector, in the run's tenant context, outside any transaction. */
  async call(claimed: Claimed, next: CallAction, signal: AbortSignal): Promise<CallOutcome> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    try {
      // DLP `connector_request`: the payload is scanned before it leaves (redacted, or not sent at all).
      const request = await this.leases.inTenant(claimed.companyId, () =>
        this.dlp.inspect('connector_request', next.input, `steps.${next.step.id}.request`),
      );
      const sent: DlpFound = { scope: 'connector_request', hits: request.hits };
      if (request.blocked) return { kind: 'dlp_blocked', blocked: sent, dlp: [] };
      const result = await abortable(
        this.leases.inTenant(claimed.companyId, () =>
          this.invoker.invoke({
            toolId: next.step.toolId,
            input: request.value,
            ...(next.step.timeoutMs !== undefined ? { timeoutMs: next.step.timeoutMs } : {}),
            // Stable across attempts (and across workers), so the endpoint can recognise a repeat.
            idempotencyKey: `${claimed.runId}:${next.step.id}`,
            // Cancelling, losing the lease or stopping also ends the HTTP request itself.
            signal,
          }),
        ),
        signal,
      );
      const ms = took();
      // DLP `step_output`: the connector's answer is scanned before it is stored.
      const answer = await this.leases.inTenant(claimed.companyId, () =>
        this.dlp.inspect('step_output', result.output, `steps.${next.step.id}.output`),
      );
      const received: DlpFound = { scope: 'step_output', hits: answer.hits };
      if (answer.blocked) return { kind: 'dlp_blocked', blocked: received, dlp: [sent], ms };
      return { kind: 'ok', result: { ...result, output: answer.value }, ms, dlp: [sent, received] };
    } catch (e) {
      if (e instanceof RunAbort) return { kind: 'aborted', why: e.why };
      if (e instanceof ToolCallError) return { kind: 'error', error: e, ms: took() };
      if (e instanceof SecretUnavailableError) {
        this.logger.error(
          `run ${claimed.runId} step ${next.step.id}: the connector secret is unavailable: ${e.message}`,
        );
        if (e.transient) {
          return {
            kind: 'unavailable',
            message:
              'The connector’s secret cannot be decrypted by this worker right now (a server fault, logged)',
          };
        }
        return {
          kind: 'fault',
          message:
            'The connector’s secret could not be decrypted (a server fault, logged for the administrators)',
          ms: took(),
        };
      }
      this.logger.error(
        `run ${claimed.runId} step ${next.step.id}: the tool call failed unexpectedly: ${(e as Error)?.stack ?? String(e)}`,
      );
      return {
        kind: 'fault',
        message: 'The tool call failed unexpectedly (a server fault, logged)',
        ms: took(),
      };
    }
  }
}
