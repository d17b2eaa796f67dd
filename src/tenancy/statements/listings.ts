/**
 * The community marketplace's one hand-written statement (reviewed here, run through `scoped(...)`).
 */
import { companyStatement, type CompanyStatement } from '../scoped-sql.js';

export const LISTING_STATEMENTS = {
  /**
   * Counts one install of a listing, atomically (`install_count + 1` under the row lock), through the
   * `listing_installed` function: the installing company cannot write another company's listing (row-level
   * security), so the one column it may change is changed by that SECURITY DEFINER function, which touches
   * nothing else and records nothing of the installer. Its first argument is the context's company, which the
   * function requires to equal the transaction's `app.company_id`. Args: listingId. Returns the new count, or
   * null when the listing is gone (unlisted meanwhile).
   */
  installed: companyStatement(
    'listings.installed',
    `select listing_installed(?::uuid, ?::uuid) as "installCount"`,
  ),
} as const satisfies Record<string, CompanyStatement>;
