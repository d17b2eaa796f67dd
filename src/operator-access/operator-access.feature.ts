import { defineFeature } from '../feature/feature.js';
import { OperatorAccessRequest } from './operator-access-request.entity.js';
import { OperatorAccessModule } from './operator-access.module.js';

export const OPERATOR_ACCESS_AUDIT_ACTIONS = {
  'operator_access.requested': {
    version: 1,
    description:
      'A platform operator asked to switch in (policy `approval`); metadata.reason, metadata.mode, metadata.expiresAt',
  },
  'operator_access.approved': {
    version: 1,
    description:
      "An admin approved an operator's access request; metadata.operatorId, metadata.mode, metadata.reason, metadata.expiresAt",
  },
  'operator_access.denied': {
    version: 1,
    description:
      "An admin denied an operator's access request; metadata.operatorId, metadata.mode, metadata.reason",
  },
  'operator_access.refused': {
    version: 1,
    description: 'A switch-in was refused because the policy is `off`; metadata.reason, metadata.mode',
  },
  'operator_access.break_glass': {
    version: 1,
    description:
      'A switch-in was forced from the command line whatever the policy; metadata.reason, metadata.mode, metadata.policy',
  },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureActions {
    approve: true;
    deny: true;
  }
  interface FeatureSubjects {
    OperatorAccessRequest: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof OPERATOR_ACCESS_AUDIT_ACTIONS, true> {}
}

/**
 * Operator access: the company's `operatorAccess` policy decides how a platform operator switches in (`open`,
 * `approval`, `off`). Its admins read and decide access requests, in person; a switched-in operator never sees them.
 */
export const operatorAccessFeature = defineFeature({
  name: 'operator-access',
  module: OperatorAccessModule,
  entities: [OperatorAccessRequest],
  subjects: ['OperatorAccessRequest'],
  permissions: [
    {
      name: 'operator-access:read',
      description: "Read platform operators' requests to switch into the company",
      role: 'admin',
      rules: [{ actions: ['read'], subject: 'OperatorAccessRequest' }],
      operator: false,
    },
    {
      name: 'operator-access:decide',
      description: "Approve or deny a platform operator's request to switch into the company",
      role: 'admin',
      rules: [{ actions: ['approve', 'deny'], subject: 'OperatorAccessRequest' }],
      operator: false,
    },
  ],
  auditActions: OPERATOR_ACCESS_AUDIT_ACTIONS,
});
