/** An exponential backoff: `firstMs` before the second attempt, doubling each attempt, capped at `maxMs`. */
export interface BackoffPolicy {
  readonly firstMs: number;
  readonly maxMs: number;
}

/**
 * The one backoff of the codebase: the wait after failed attempt number `attempt` (1-based) is
 * `firstMs × 2^(attempt − 1)`, capped at `maxMs`. pg-boss queues use the same shape (`retryBackoff` with
 * `retryDelay` and `retryDelayMax`, see run-queue.schema.ts).
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.firstMs * 2 ** Math.max(0, attempt - 1), policy.maxMs);
}
