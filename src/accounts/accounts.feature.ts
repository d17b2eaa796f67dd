import { defineFeature } from '../feature/feature.js';
import { AccountRunUsage } from './account-run-usage.entity.js';
import { Account } from './account.entity.js';
import { AccountsModule } from './accounts.module.js';

export const ACCOUNT_AUDIT_ACTIONS = {
  'account.company_created': {
    version: 1,
    description:
      "A company was created by the account owner, in the new company's trail; metadata.accountId, name, slug, companies",
  },
  'account.plan_changed': {
    version: 1,
    description:
      "The account's plan was set by the CLI, in each of its companies' trails; metadata.from, to, limits",
  },
  'account.ownership_transferred': {
    version: 1,
    description:
      "The account owner handed the account on, in each of its companies' trails; metadata.from, to",
  },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    BillingAccount: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof ACCOUNT_AUDIT_ACTIONS, true> {}
}

/**
 * Accounts are registry rows above the companies, not tenant data; they use the feature manifest for their
 * entities, audit actions and the route subject. Any person may *ask* (`BillingAccount`); the service answers
 * only the account owner (403 otherwise), and never to a switched-in operator.
 */
export const accountsFeature = defineFeature({
  name: 'accounts',
  module: AccountsModule,
  entities: [Account, AccountRunUsage],
  subjects: ['BillingAccount'],
  permissions: [
    {
      name: 'accounts:read',
      description:
        "Read the account of the current company, its limits and usage (answered to the account's owner only)",
      role: 'member',
      rules: [{ actions: ['read'], subject: 'BillingAccount' }],
      operator: false,
    },
    {
      name: 'accounts:write',
      description: "Create a company in the account or transfer the account (the account's owner only)",
      role: 'member',
      rules: [{ actions: ['create', 'transfer'], subject: 'BillingAccount' }],
      operator: false,
    },
  ],
  auditActions: ACCOUNT_AUDIT_ACTIONS,
});
