import type { AppConfig } from '../config/config.js';
import type { EmbeddedDatabase } from './embedded.js';
import { deriveAppUrl } from './urls.js';

export interface ResolvedDatabase {
  /** Owner URL (migrations). */
  ownerUrl: string;
  /** Runtime URL as `tenantry_app`. */
  appUrl: string;
  embedded: EmbeddedDatabase | undefined;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR (never in production). */
export async function resolveDatabase(
  config: AppConfig,
  log: (msg: string) => void,
): Promise<ResolvedDatabase> {
  let ownerUrl = config.database.url;
  let embedded: EmbeddedDatabase | undefined;
  if (!ownerUrl) {
    // Loaded only here: production images do not ship the embedded PostgreSQL binaries.
    const { startEmbeddedDatabase } = await import('./embedded.js');
    embedded = await startEmbeddedDatabase(config.dataDir, config.database.embeddedPort, log);
    ownerUrl = embedded.url;
    log(
      `Using the embedded PostgreSQL (data in ${embedded.dataDir}, port ${config.database.embeddedPort}). ` +
        'To use a real server instead, set DATABASE_URL (owner, for migrations) and DATABASE_APP_URL (tenantry_app).',
    );
  }
  return {
    ownerUrl,
    appUrl: deriveAppUrl(ownerUrl, config.database.appUrl, config.database.appPassword),
    embedded,
  };
}
