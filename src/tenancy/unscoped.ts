/**
 * Why a piece of code reads or writes outside any company: the complete list. Each reason is a path where no
 * tenant exists (yet) or where the data is not tenant data; `TenancyService.unscoped(reason, fn)` is the only way
 * to run one, and README.md ("Unscoped paths") lists them. A tenant entity touched inside still throws: unscoped
 * work sees the registry, accounts and credential rows it is entitled to, never a company's data.
 */
export const Unscoped = {
  /** A credential row (refresh token, API key, invitation, application) found by the hash of its secret. */
  CredentialLookup: 'credential-lookup',
  /** The companies registry: ids, runtime settings, mail due markers (not tenant data; no company's rows). */
  Directory: 'directory',
  /**
   * An account (the billing entity above companies): its row, its plan, the directory of its companies (ids,
   * names, slugs) and account-wide changes audited in each of its companies' trails, one company at a time
   * (`TenancyService.inCompany`). Counts of a company's rows are read in that company's own context, never here.
   */
  Account: 'account',
  /** Account flags of a user (`platform:admin`), read before or beside any company. */
  Login: 'login',
  /** Deleting the companies whose grace window ended, with their queued jobs (the cascade removes the rest). */
  Purge: 'purge',
} as const;

export type UnscopedReason = (typeof Unscoped)[keyof typeof Unscoped];
