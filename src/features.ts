import { accountsFeature } from './accounts/accounts.feature.js';
import { analyticsFeature } from './analytics/analytics.feature.js';
import { boardsFeature } from './boards/boards.feature.js';
import { dlpFeature } from './dlp/dlp.feature.js';
import { registerFeatures } from './feature/registry.js';
import { groupsFeature } from './groups/groups.feature.js';
import { listingsFeature } from './listings/listings.feature.js';
import { mcpFeature } from './mcp/mcp.feature.js';
import { operatorAccessFeature } from './operator-access/operator-access.feature.js';
import { wikiFeature } from './wiki/wiki.feature.js';

/**
 * The features that register themselves: adding one is its folder, one migration and one line in this list
 * (see docs/adding-a-feature.md). The app module imports each feature's module from it; the ORM, the ability
 * factory, the audit catalogue and the isolation suites read the rest of each manifest (through
 * `feature/registry.ts`).
 */
export const FEATURES = registerFeatures([
  accountsFeature,
  analyticsFeature,
  boardsFeature,
  dlpFeature,
  groupsFeature,
  listingsFeature,
  mcpFeature,
  operatorAccessFeature,
  wikiFeature,
]);
