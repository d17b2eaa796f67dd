import type { JsonValue } from '../templates/definition.js';

/**
 * Contract between runs and connectors: how a run's `tool` step calls the company's connector bound to a
 * `toolId`. Implemented by `ConnectorsService` (connectors module), used by the run engine. Runs inside a tenant
 * context (the worker opens one per job); the connector is looked up in that company only.
 */
export interface ToolCall {
  toolId: string;
  /** The step's interpolated input, sent as the JSON body. */
  input: JsonValue;
  /** Per-call timeout (the step's `timeoutMs`, capped by configuration). */
  timeoutMs?: number;
  /** Idempotency key sent as `Idempotency-Key`, so a retried call can be de-duplicated by the endpoint. */
  idempotencyKey: string;
  /** Aborts the call in flight (the run was cancelled, or its worker lost its lease or is stopping). */
  signal?: AbortSignal;
}

export interface ToolResult {
  status: number;
  /** The parsed JSON response body (or `null` for an empty body). */
  output: JsonValue;
  durationMs: number;
}

/** Why a tool call failed; `retryable` tells the run engine whether backing off and retrying can help. */
export class ToolCallError extends Error {
  constructor(
    message: string,
    readonly reason:
      'not_bound' | 'refused' | 'timeout' | 'network' | 'http_status' | 'response_too_large' | 'bad_response',
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ToolCallError';
  }
}

export interface ConnectorInvoker {
  /** Calls the connector bound to `call.toolId` in the current company; throws `ToolCallError`. */
  invoke(call: ToolCall): Promise<ToolResult>;
}

export const CONNECTOR_INVOKER = Symbol('CONNECTOR_INVOKER');
