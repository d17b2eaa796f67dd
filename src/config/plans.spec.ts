import { describe, expect, it } from 'vitest';
import { BUILT_IN_PLANS, DEFAULT_PLAN, limitsOf, parsePlans, planLabel } from './plans.js';

describe('account plans', () => {
  it('has a free default that allows at least three companies', () => {
    expect(DEFAULT_PLAN).toBe('free');
    expect(BUILT_IN_PLANS.free.maxCompanies).toBeGreaterThanOrEqual(3);
    expect(parsePlans(undefined)).toBe(BUILT_IN_PLANS);
  });

  it('merges ACCOUNT_PLANS over the built-in plans', () => {
    const plans = parsePlans(
      JSON.stringify({ pilot: { maxCompanies: 2, maxMembersPerCompany: null, monthlyRunBudget: 5 } }),
    );
    expect(plans.pilot).toEqual({ maxCompanies: 2, maxMembersPerCompany: null, monthlyRunBudget: 5 });
    expect(plans.team).toEqual(BUILT_IN_PLANS.team);
    expect(limitsOf(plans, 'gone')).toEqual(BUILT_IN_PLANS.free);
    // A refusal names what applied: the plan, or the default standing in for one this server does not define.
    expect(planLabel(plans, 'pilot')).toBe('pilot');
    expect(planLabel(plans, 'gone')).toBe(
      `${DEFAULT_PLAN}'s limits, as "gone" is not defined on this server`,
    );
  });

  it.each([
    ['not json', 'JSON object'],
    ['[]', 'JSON object'],
    ['{"Bad Name":{}}', 'not a plan name'],
    ['{"x":{"maxCompanies":1,"maxMembersPerCompany":1}}', 'monthlyRunBudget'],
    ['{"x":{"maxCompanies":-1,"maxMembersPerCompany":1,"monthlyRunBudget":1}}', 'maxCompanies'],
    ['{"x":{"maxCompanies":1.5,"maxMembersPerCompany":1,"monthlyRunBudget":1}}', 'maxCompanies'],
    ['{"x":{"maxCompanies":1,"maxMembersPerCompany":1,"monthlyRunBudget":1,"seats":2}}', 'not a limit'],
  ])('refuses %s', (json, message) => {
    expect(() => parsePlans(json)).toThrow(message);
  });
});
