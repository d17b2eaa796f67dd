/**
 * Account plans: what an account (the customer above its companies) may use. Defined here, with the free
 * default, and overridable per deployment with `ACCOUNT_PLANS` (a JSON object of plan name → limits, merged over
 * these). A plan is set on an account only by the CLI (`npm run cli -- account plan <accountId> <plan>`).
 */
export interface PlanLimits {
  /** Companies the account may own (null: unlimited). */
  readonly maxCompanies: number | null;
  /** Members one company of the account may have (null: unlimited). */
  readonly maxMembersPerCompany: number | null;
  /** Runs the account's companies together may start per calendar month, UTC (null: unlimited). */
  readonly monthlyRunBudget: number | null;
}

export type Plans = Readonly<Record<string, PlanLimits>>;

/** The plan of a new account, and of an account whose plan is no longer defined. */
export const DEFAULT_PLAN = 'free';

export const BUILT_IN_PLANS: Plans = Object.freeze({
  free: { maxCompanies: 3, maxMembersPerCompany: 50, monthlyRunBudget: 1000 },
  team: { maxCompanies: 10, maxMembersPerCompany: 250, monthlyRunBudget: 25_000 },
  business: { maxCompanies: 50, maxMembersPerCompany: 2000, monthlyRunBudget: 500_000 },
  unlimited: { maxCompanies: null, maxMembersPerCompany: null, monthlyRunBudget: null },
});

const PLAN_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const LIMITS = ['maxCompanies', 'maxMembersPerCompany', 'monthlyRunBudget'] as const;

/** The built-in plans with `json` (ACCOUNT_PLANS) merged over them; throws a message naming what is wrong. */
export function parsePlans(json: string | undefined): Plans {
  if (json === undefined) return BUILT_IN_PLANS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('ACCOUNT_PLANS must be a JSON object of plan name → limits');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('ACCOUNT_PLANS must be a JSON object of plan name → limits');
  }
  const plans: Record<string, PlanLimits> = { ...BUILT_IN_PLANS };
  for (const [name, value] of Object.entries(parsed)) {
    if (!PLAN_NAME.test(name))
      throw new Error(`ACCOUNT_PLANS: "${name}" is not a plan name ([a-z][a-z0-9_-]*)`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`ACCOUNT_PLANS.${name} must be an object with ${LIMITS.join(', ')}`);
    }
    const limits = value as Record<string, unknown>;
    for (const key of Object.keys(limits)) {
      if (!(LIMITS as readonly string[]).includes(key))
        throw new Error(`ACCOUNT_PLANS.${name}.${key} is not a limit`);
    }
    const out: Record<string, number | null> = {};
    for (const key of LIMITS) {
      const v = limits[key];
      if (v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000_000)) {
        throw new Error(`ACCOUNT_PLANS.${name}.${key} must be a whole number ≥ 0 or null (unlimited)`);
      }
      out[key] = v;
    }
    plans[name] = out as unknown as PlanLimits;
  }
  if (!plans[DEFAULT_PLAN]) throw new Error(`ACCOUNT_PLANS must keep the "${DEFAULT_PLAN}" plan`);
  return Object.freeze(plans);
}

/** The limits of `plan`, or the default plan's when `plan` is no longer defined. */
export function limitsOf(plans: Plans, plan: string): PlanLimits {
  return plans[plan] ?? plans[DEFAULT_PLAN];
}

/**
 * How a refusal names the plan whose limits applied: `plan` itself, or, when this server's configuration does not
 * define it (ACCOUNT_PLANS differs from the CLI's that set it), that the default plan's limits stood in.
 */
export function planLabel(plans: Plans, plan: string): string {
  return plans[plan] ? plan : `${DEFAULT_PLAN}'s limits, as "${plan}" is not defined on this server`;
}
