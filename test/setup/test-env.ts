/** The environment every test process runs with (set before any application code loads). */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  DATA_DIR: '.data/test',
  JWT_SECRET: 'test-only-jwt-secret-0123456789abcdefghijklmnop',
  TENANTRY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  DATABASE_APP_PASSWORD: 'tenantry-app-test-password',
  RATE_LIMIT_PER_MINUTE: '100000',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '100000',
  CONNECTOR_ALLOWED_HOSTS: '127.0.0.1,localhost,::1',
  WORKER_MODE: 'off',
  MIGRATE_ON_START: 'false',
};
