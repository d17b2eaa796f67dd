import { defineFeature } from '../feature/feature.js';
import { AnalyticsModule } from './analytics.module.js';
import { AnalyticsConnectorRollup } from './connector-rollup.entity.js';
import { AnalyticsRunRollup } from './run-rollup.entity.js';

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    Analytics: true;
  }
}

export const analyticsFeature = defineFeature({
  name: 'analytics',
  module: AnalyticsModule,
  entities: [AnalyticsRunRollup, AnalyticsConnectorRollup],
  subjects: ['Analytics'],
  permissions: [
    {
      name: 'analytics:read',
      description: "Read the company's analytics",
      role: 'member',
      rules: [{ actions: ['read'], subject: 'Analytics' }],
    },
  ],
});
