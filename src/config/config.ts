import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { EnvSchema, NodeEnv, type LogLevel } from './env.schema.js';
import { parsePlans, type Plans } from './plans.js';

/** The typed configuration of one Tenantry process, read once at start. */
export interface AppConfig {
  readonly env: NodeEnv;
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** Bytes of log lines buffered before a write (0: every line written at once). */
  readonly logBufferBytes: number;
  readonly dataDir: string;
  readonly database: {
    /** Owner connection; `undefined` means "start the embedded PostgreSQL under dataDir". */
    readonly url: string | undefined;
    readonly appUrl: string | undefined;
    readonly appPassword: string;
    readonly poolMax: number;
    readonly embeddedPort: number;
    /** EMBEDDED_PG_PORT was set: use exactly that port (else another is chosen when it is taken). */
    readonly embeddedPortFixed: boolean;
    readonly migrateOnStart: boolean;
  };
  readonly auth: {
    readonly jwtSecret: string;
    readonly accessTtlSeconds: number;
    readonly switchTtlSeconds: number;
    readonly refreshTtlDays: number;
  };
  readonly masterKey: Buffer;
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string; readonly outboxDir: string };
  readonly publicAppUrl: string;
  readonly invitationTtlDays: number;
  readonly connectors: { readonly allowedHosts: readonly string[]; readonly timeoutMs: number };
  readonly audit: {
    readonly exportUrl: string;
    /** Between runs of the scheduled incremental export; null when it is off. */
    readonly exportIntervalMs: number | null;
  };
  readonly worker: { readonly mode: 'inline' | 'off' };
  readonly redisUrl: string | undefined;
  readonly rateLimit: { readonly perMinute: number; readonly publicPerMinute: number };
  readonly trustProxy: boolean;
  /** Account plans by name (src/config/plans.ts, ACCOUNT_PLANS); set on accounts by the CLI only. */
  readonly plans: Plans;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

interface DevSecrets {
  jwtSecret: string;
  masterKey: string;
  appPassword: string;
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => m));
}

/** Secrets a developer never has to set: generated once into DATA_DIR and reused on every start. */
function loadDevSecrets(dataDir: string, announce: (msg: string) => void): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    masterKey: randomBytes(32).toString('base64'),
    appPassword: randomBytes(18).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  announce(
    `Generated development secrets (JWT_SECRET, TENANTRY_MASTER_KEY, DATABASE_APP_PASSWORD) into ${file}. ` +
      'Set them in the environment for production.',
  );
  return secrets;
}

const WEAK_SECRETS = /^(change[-_ ]?me|secret|password|test|dev(elopment)?|example)/i;

function isWeak(secret: string): boolean {
  return WEAK_SECRETS.test(secret) || new Set(secret).size < 12;
}

/**
 * Validates the environment into an `AppConfig`. A missing or malformed variable throws a `ConfigError`
 * naming it. Development and test get safe defaults; production refuses weak or missing secrets.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  announce: (msg: string) => void = (msg) => process.stderr.write(`${msg}\n`),
): AppConfig {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = plainToInstance(EnvSchema, raw, { exposeDefaultValues: true });
  const problems = flatten(validateSync(parsed, { whitelist: false, forbidUnknownValues: false }));
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  let plans: Plans;
  try {
    plans = parsePlans(parsed.ACCOUNT_PLANS);
  } catch (e) {
    throw new ConfigError([e instanceof Error ? e.message : String(e)]);
  }

  const isProduction = parsed.NODE_ENV === NodeEnv.Production;
  const dataDir = isAbsolute(parsed.DATA_DIR) ? parsed.DATA_DIR : resolve(process.cwd(), parsed.DATA_DIR);

  if (isProduction) {
    const missing: string[] = [];
    if (!parsed.DATABASE_URL) missing.push('DATABASE_URL is required in production');
    if (!parsed.DATABASE_APP_URL && !parsed.DATABASE_APP_PASSWORD) {
      missing.push('DATABASE_APP_URL (or DATABASE_APP_PASSWORD) is required in production');
    }
    if (!parsed.JWT_SECRET) missing.push('JWT_SECRET is required in production');
    else if (isWeak(parsed.JWT_SECRET))
      missing.push('JWT_SECRET is too weak for production: use 32+ random bytes');
    if (!parsed.TENANTRY_MASTER_KEY) missing.push('TENANTRY_MASTER_KEY is required in production');
    else if (new Set(Buffer.from(parsed.TENANTRY_MASTER_KEY, 'base64')).size < 8) {
      missing.push('TENANTRY_MASTER_KEY is too weak for production: use 32 random bytes');
    }
    if (parsed.DATABASE_APP_PASSWORD && parsed.DATABASE_APP_PASSWORD.length < 16) {
      missing.push('DATABASE_APP_PASSWORD must be at least 16 characters in production');
    }
    if (missing.length > 0) {
      throw new ConfigError(missing);
    }
  }

  const needsDevSecrets =
    !parsed.JWT_SECRET ||
    !parsed.TENANTRY_MASTER_KEY ||
    (!parsed.DATABASE_APP_PASSWORD && !parsed.DATABASE_APP_URL);
  const dev = needsDevSecrets ? loadDevSecrets(dataDir, announce) : undefined;
  const masterKey = Buffer.from(parsed.TENANTRY_MASTER_KEY ?? dev?.masterKey ?? '', 'base64');

  return Object.freeze({
    env: parsed.NODE_ENV,
    isProduction,
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    logBufferBytes: parsed.LOG_BUFFER_BYTES,
    dataDir,
    database: {
      url: parsed.DATABASE_URL,
      appUrl: parsed.DATABASE_APP_URL,
      appPassword: parsed.DATABASE_APP_PASSWORD ?? dev?.appPassword ?? '',
      poolMax: parsed.DATABASE_POOL_MAX,
      embeddedPort: parsed.EMBEDDED_PG_PORT,
      embeddedPortFixed: raw.EMBEDDED_PG_PORT !== undefined,
      migrateOnStart: parsed.MIGRATE_ON_START ?? !isProduction,
    },
    auth: {
      jwtSecret: parsed.JWT_SECRET ?? dev?.jwtSecret ?? '',
      accessTtlSeconds: parsed.JWT_ACCESS_TTL_SECONDS,
      switchTtlSeconds: parsed.PLATFORM_SWITCH_TTL_SECONDS,
      refreshTtlDays: parsed.REFRESH_TTL_DAYS,
    },
    masterKey,
    mail: {
      smtpUrl: parsed.SMTP_URL,
      from: parsed.MAIL_FROM,
      outboxDir: parsed.MAIL_OUTBOX_DIR ? resolve(parsed.MAIL_OUTBOX_DIR) : join(dataDir, 'mail'),
    },
    publicAppUrl: (parsed.PUBLIC_APP_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ''),
    invitationTtlDays: parsed.INVITATION_TTL_DAYS,
    connectors: {
      allowedHosts: parsed.CONNECTOR_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      timeoutMs: parsed.CONNECTOR_TIMEOUT_MS,
    },
    audit: {
      exportUrl: parsed.AUDIT_EXPORT_URL ?? `file://${join(dataDir, 'audit-export')}`,
      exportIntervalMs:
        parsed.AUDIT_EXPORT_INTERVAL_MINUTES > 0 ? parsed.AUDIT_EXPORT_INTERVAL_MINUTES * 60_000 : null,
    },
    worker: { mode: parsed.WORKER_MODE },
    redisUrl: parsed.REDIS_URL,
    rateLimit: {
      perMinute: parsed.RATE_LIMIT_PER_MINUTE,
      publicPerMinute: parsed.PUBLIC_RATE_LIMIT_PER_MINUTE,
    },
    trustProxy: parsed.TRUST_PROXY,
    plans,
  });
}
