import { defineFeature } from '../feature/feature.js';
import { DlpPolicy } from './dlp-policy.entity.js';
import { DlpModule } from './dlp.module.js';

export const DLP_AUDIT_ACTIONS = {
  'dlp.policy_updated': {
    version: 1,
    description:
      'The DLP policy was replaced; metadata.version, rules (detector, action, scopes; no patterns)',
  },
  'dlp.blocked': {
    version: 1,
    description:
      'A value was refused by a block rule; metadata.scope, detectors (counts), paths (field paths; never a value)',
  },
  'dlp.redacted': {
    version: 1,
    description: 'Matches were redacted before storing or sending; metadata.scope, detectors (counts), paths',
  },
  'dlp.detected': {
    version: 1,
    description: 'An audit rule matched (the value was kept); metadata.scope, detectors (counts), paths',
  },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    DlpPolicy: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof DLP_AUDIT_ACTIONS, true> {}
}

export const dlpFeature = defineFeature({
  name: 'dlp',
  module: DlpModule,
  entities: [DlpPolicy],
  subjects: ['DlpPolicy'],
  permissions: [
    {
      name: 'dlp:read',
      description: "Read the company's DLP policy and test text against it (findings as offsets only)",
      role: 'member',
      rules: [{ actions: ['read'], subject: 'DlpPolicy' }],
    },
    {
      name: 'dlp:write',
      description: "Set the company's DLP policy",
      role: 'admin',
      rules: [{ actions: ['update'], subject: 'DlpPolicy' }],
    },
  ],
  auditActions: DLP_AUDIT_ACTIONS,
});
