import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.schema.js';
import { currentStore } from '../tenancy/request-store.js';

/** Structured JSON logs. Every line written through `log()` carries the request id and company id. */
export function createRootLogger(level: LogLevel): Logger {
  return pino({
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
  });
}

/** Bindings of the current request or job: request id and company id. */
export function contextBindings(): Record<string, string> {
  const store = currentStore();
  if (!store) return {};
  const out: Record<string, string> = { requestId: store.requestId };
  if (store.tenant) out.companyId = store.tenant.companyId;
  return out;
}

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
    this.write('info', message, rest);
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
