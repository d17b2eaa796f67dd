/** How long a client is told to wait (`Retry-After`) before trying again, by default. */
export const DEFAULT_RETRY_AFTER_SECONDS = 30;

/**
 * A server fault that is expected to pass (a dependency or a piece of configuration is not usable right now):
 * answered 503 with a generic detail and `Retry-After`, never the message, which stays in the logs (it says what
 * is wrong for the operators). Features extend it for their own causes (`SecretUnavailableError`), so that this
 * module knows nothing about them.
 */
export class ServiceUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number = DEFAULT_RETRY_AFTER_SECONDS,
  ) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}
