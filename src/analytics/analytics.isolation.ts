import { defineIsolation } from '../../test/harness/isolation.js';

/**
 * Analytics routes take no path parameter and change nothing: nothing for the cross-tenant walk (which calls
 * routes with another company's ids) or the audit-coverage walk (mutating routes). That another company's runs
 * never count is proved by test/analytics.e2e-spec.ts.
 */
export const isolation = defineIsolation({});
