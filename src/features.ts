import { analyticsFeature } from './analytics/analytics.feature.js';
import { boardsFeature } from './boards/boards.feature.js';
import { registerFeatures } from './feature/registry.js';
import { groupsFeature } from './groups/groups.feature.js';
import { mcpFeature } from './mcp/mcp.feature.js';
import { wikiFeature } from './wiki/wiki.feature.js';

/**
 * The features that register themselves: adding one is its folder, one migration and one line in this list
 * (see docs/adding-a-feature.md). The app module imports each feature's module from it; the ORM, the ability
 * factory, the audit catalogue and the isolation suites read the rest of each manifest (through
 * `feature/registry.ts`).
 */
export const FEATURES = registerFeatures([
  analyticsFeature,
  boardsFeature,
  groupsFeature,
  mcpFeature,
  wikiFeature,
]);
