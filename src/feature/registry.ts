import type { FeatureManifest } from './feature.js';

const registered: FeatureManifest[] = [];

/**
 * Called once, by `src/features.ts` (the list). Central readers (the ability factory, the audit catalogue, the
 * entity list) import this file, never the list itself: the list imports every feature, and every feature
 * imports central code, so a central file importing the list would close an import cycle.
 */
export function registerFeatures(list: readonly FeatureManifest[]): readonly FeatureManifest[] {
  for (const feature of list) {
    if (registered.some((f) => f.name === feature.name)) continue;
    registered.push(feature);
  }
  return registered;
}

/** The registered features (empty until `src/features.ts` has been imported, as the app module and the ORM config do). */
export function features(): readonly FeatureManifest[] {
  return registered;
}
