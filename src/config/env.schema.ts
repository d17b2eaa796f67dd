import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

export enum NodeEnv {
  Development = 'development',
  Test = 'test',
  Production = 'production',
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBool = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/**
 * Every environment variable Tenantry reads, validated once at start.
 * Property names are the variable names, so a validation message names the variable.
 * Services never read `process.env`: they receive the typed `AppConfig` built from this.
 */
export class EnvSchema {
  @IsEnum(NodeEnv)
  NODE_ENV: NodeEnv = NodeEnv.Development;

  @IsString()
  HOST = '127.0.0.1';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * Log lines are buffered up to this many bytes (and at most 1 s) before one write to stdout; 0 writes every line
   * at once (a system call each). Buffered lines are flushed on exit; a killed process loses at most the buffer.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_048_576, { message: 'LOG_BUFFER_BYTES must be between 0 and 1048576' })
  LOG_BUFFER_BYTES = 4096;

  /** Where development data lives: the embedded database, generated dev secrets, the mail outbox, audit exports. */
  @IsString()
  DATA_DIR = '.data';

  /** Owner connection (runs migrations). Absent outside production: an embedded PostgreSQL under DATA_DIR. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** The application's runtime connection as the non-owner role `tenantry_app`. Derived from DATABASE_URL when absent. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_APP_URL must be a postgres:// URL' })
  DATABASE_APP_URL?: string;

  /** Password of `tenantry_app`, used when DATABASE_APP_URL is derived; set on the role by `npm run migrate`. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  DATABASE_APP_PASSWORD?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_MAX = 10;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  /** Apply pending migrations on start. Defaults to on in development and test, off in production. */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  MIGRATE_ON_START?: boolean;

  /** HMAC key of access tokens (HS256). At least 32 characters; generated into DATA_DIR in development. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(900, { message: 'JWT_ACCESS_TTL_SECONDS must not exceed 900 (15 minutes)' })
  JWT_ACCESS_TTL_SECONDS = 900;

  @Type(() => Number)
  @IsInt()
  @Min(300)
  @Max(3600, { message: 'PLATFORM_SWITCH_TTL_SECONDS must not exceed 3600 (60 minutes)' })
  PLATFORM_SWITCH_TTL_SECONDS = 3600;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(90)
  REFRESH_TTL_DAYS = 30;

  /** Base64 of 32 random bytes wrapping each company's data key. Generated into DATA_DIR in development. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'TENANTRY_MASTER_KEY must be base64 of exactly 32 bytes' })
  TENANTRY_MASTER_KEY?: string;

  @IsOptional()
  @Matches(/^smtps?:\/\/.+/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  @IsString()
  @MaxLength(200)
  MAIL_FROM = 'Tenantry <no-reply@tenantry.local>';

  /** Where messages are written as .eml files when SMTP_URL is not set. Default: DATA_DIR/mail. */
  @IsOptional()
  @IsString()
  MAIL_OUTBOX_DIR?: string;

  /**
   * Public base URL of the dashboard, used in invitation links (`<PUBLIC_APP_URL>/invitations/accept?token=…`).
   * Default: this server itself (`http://localhost:<PORT>`), which serves a small accept page at that path.
   */
  @IsOptional()
  @IsString()
  PUBLIC_APP_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30, { message: 'INVITATION_TTL_DAYS must be between 1 and 30' })
  INVITATION_TTL_DAYS = 7;

  /** Comma-separated hosts (or IPs) connectors may call although they resolve to private addresses. */
  @IsString()
  CONNECTOR_ALLOWED_HOSTS = '';

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120000)
  CONNECTOR_TIMEOUT_MS = 10000;

  /** Where audit exports are written: file:///path (default DATA_DIR/audit-export) or s3://key:secret@host/bucket. */
  @IsOptional()
  @Matches(/^(file|s3|https?):\/\/.+/, {
    message: 'AUDIT_EXPORT_URL must be a file://, s3:// or http(s):// URL',
  })
  AUDIT_EXPORT_URL?: string;

  /**
   * Minutes between runs of the scheduled, incremental audit export to AUDIT_EXPORT_URL (each company's events
   * newer than its last export); 0 turns it off. Runs where the scheduler runs (WORKER_MODE=inline, `npm run worker`).
   */
  @Type(() => Number)
  @IsInt({
    message: 'AUDIT_EXPORT_INTERVAL_MINUTES must be a whole number of minutes (0 turns the export off)',
  })
  @Min(0)
  @Max(10_080, { message: 'AUDIT_EXPORT_INTERVAL_MINUTES must not exceed 10080 (one week)' })
  AUDIT_EXPORT_INTERVAL_MINUTES = 60;

  /** Run the background worker inside the API process (`inline`) or not at all (`off`, for `npm run worker`). */
  @IsIn(['inline', 'off'])
  WORKER_MODE: 'inline' | 'off' = 'inline';

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  /** Requests per minute per company when the company has no setting of its own. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  RATE_LIMIT_PER_MINUTE = 600;

  /** Requests per minute per client address on public routes (login, register, token). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  PUBLIC_RATE_LIMIT_PER_MINUTE = 120;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  TRUST_PROXY = false;

  /** Account plans merged over the built-in ones (src/config/plans.ts): a JSON object of name → limits. */
  @IsOptional()
  @IsString()
  ACCOUNT_PLANS?: string;
}
