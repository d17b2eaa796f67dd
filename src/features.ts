import type { FeatureManifest } from './feature/feature.js';
import { wikiFeature } from './wiki/wiki.feature.js';

let list: readonly FeatureManifest[] | undefined;

/**
 * The features that register themselves: adding one is its folder, one migration and one line in this list.
 * The app module imports each feature's module from it; the ORM, the ability factory, the audit catalogue and
 * the isolation suites read the rest of each manifest. Built on first call, so that central files importing this
 * one never read a manifest of a half-evaluated import cycle.
 */
export function features(): readonly FeatureManifest[] {
  return (list ??= [
    // one line per feature, e.g. boardsFeature,
    wikiFeature,
  ]);
}
