import type { AppConfig } from '../config/config.js';
import type { EmbeddedDatabase } from './embedded.js';
import { appRoleFor, deriveAppUrl } from './urls.js';

export interface ResolvedDatabase {
  /** Owner URL (migrations). */
  ownerUrl: string;
  /** Runtime URL as the application's role (never the owner). */
  appUrl: string;
  /** That role: the user of DATABASE_APP_URL, else `tenantry_app_<database>`. */
  appRole: string;
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
    embedded = await startEmbeddedDatabase(config.dataDir, config.database.embeddedPort, log, {
      fixedPort: config.database.embeddedPortFixed,
    });
    ownerUrl = embedded.url;
    log(
      `Using the embedded PostgreSQL (data in ${embedded.dataDir}, port ${embedded.port}). ` +
        'To use a real server instead, set DATABASE_URL (owner, for migrations) and DATABASE_APP_PASSWORD (or DATABASE_APP_URL).',
    );
  }
  return {
    ownerUrl,
    appUrl: deriveAppUrl(ownerUrl, config.database.appUrl, config.database.appPassword),
    appRole: appRoleFor(ownerUrl, config.database.appUrl),
    embedded,
  };
}
