import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.schema.js';
import { currentStore } from '../tenancy/request-store.js';

/** How long a buffered log line may wait for the buffer to fill before it is written anyway. */
const LOG_FLUSH_MS = 1000;

/**
 * Structured JSON logs to stdout. Every line written through `log()` carries the request id and company id.
 *
 * With `bufferBytes` > 0 lines are collected and written in one system call once that many bytes are waiting, or
 * after at most `LOG_FLUSH_MS`: one request log line per request otherwise costs a write of its own, a measurable
 * share of a fast request (docs/benchmarks.md). Flush it (`flushLogs`) before `process.exit`; a process killed
 * outright loses at most the buffer.
 */
export function createRootLogger(level: LogLevel, bufferBytes = 0): Logger {
  const destination =
    bufferBytes > 0
      ? pino.destination({ dest: 1, minLength: bufferBytes, sync: false })
      : pino.destination(1);
  if (bufferBytes > 0) setInterval(() => destination.flush(), LOG_FLUSH_MS).unref();
  return pino(
    {
      level,
      base: { service: 'tenantry' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.password',
          '*.secret',
          '*.token',
          '*.clientSecret',
          '*.refreshToken',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Writes out what the logger has buffered; call before `process.exit` (which would drop it). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** Bindings of the current request or job: request id and company id. */
export function contextBindings(): Record<string, string> {
  const store = currentStore();
  if (!store) return {};
  const out: Record<string, string> = { requestId: store.requestId };
  if (store.tenant) out.companyId = store.tenant.companyId;
  return out;
}

/** Nest contexts whose `log` lines describe module and route wiring: written at `debug`. */
export const WIRING_CONTEXTS: ReadonlySet<string> = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/** Adapts pino to Nest's `LoggerService`, so framework messages are JSON lines too. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(
    level: 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ) {
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest[rest.length - 1] : undefined;
    const bindings = { ...contextBindings(), ...(context ? { context } : {}) };
    if (message instanceof Error) this.logger[level]({ ...bindings, err: message }, message.message);
    else if (typeof message === 'object') this.logger[level]({ ...bindings, ...(message as object) });
    else this.logger[level](bindings, String(message as string | number | boolean));
  }

  log(message: unknown, ...rest: unknown[]) {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    // Module and route wiring (~75 lines per start) matters only when debugging the wiring itself.
    this.write(typeof context === 'string' && WIRING_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}
