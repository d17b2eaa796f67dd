import { secretKinds } from '../dlp/detectors.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { ListingSnapshot } from './listing.entity.js';

/** One finding in a listing: which detector, and where (a field path such as `steps.2.prompt`). Never the text. */
export interface ListingFinding {
  detector: string;
  /** What the detector recognised (`aws_access_key`), for the message; never the matched value. */
  kind?: string;
  path: string;
}

/**
 * The check every listing passes before it is stored (`POST /v1/drafts/{id}/listing`): any finding refuses the
 * listing with 422 `DLP_BLOCKED`, naming detectors and paths only.
 *
 * ── DLP call site ──────────────────────────────────────────────────────────────────────────────────────────
 * The DLP service (src/dlp, issue 18) replaces the default below by providing `LISTING_SCANNER` with a scanner
 * that runs the secret detectors always plus the publishing company's `listing`-scoped rules (the context's
 * company is passed in). The default refuses the obvious secrets on its own, so that nothing of the kind can
 * leave a company even before a DLP policy exists.
 */
export interface ListingScanner {
  scan(ctx: TenantContext, snapshot: ListingSnapshot): ListingFinding[] | Promise<ListingFinding[]>;
}

/** Injection token of the {@link ListingScanner}. */
export const LISTING_SCANNER = Symbol('LISTING_SCANNER');

/**
 * Every string of a JSON value with its dotted path (`steps.2.prompt`); object keys are scanned too. A key that is
 * itself a secret is named by its position (`inputSchema.properties.#3`), so no path ever carries a matched value.
 */
function* stringsOf(value: unknown, path: string): Generator<[path: string, text: string, isKey: boolean]> {
  if (typeof value === 'string') {
    yield [path, value, false];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* stringsOf(value[i], `${path}.${i}`);
  } else if (value !== null && typeof value === 'object') {
    let i = 0;
    for (const [key, child] of Object.entries(value)) {
      const segment = secretKinds(key).length > 0 ? `#${i}` : key;
      const at = path === '' ? segment : `${path}.${segment}`;
      yield [at, key, true];
      yield* stringsOf(child, at);
      i++;
    }
  }
}

/** The secret findings of a listing (one per path and kind; the kinds are DLP's, `SECRET_KINDS`). */
export function findSecrets(snapshot: ListingSnapshot): ListingFinding[] {
  const findings: ListingFinding[] = [];
  for (const [path, text, isKey] of stringsOf(snapshot, '')) {
    for (const kind of secretKinds(text)) {
      findings.push({ detector: 'secret', kind, path: isKey ? `${path} (key)` : path });
    }
  }
  return findings;
}

/** The default scanner: the secret detectors (always on). */
export class SecretListingScanner implements ListingScanner {
  scan(_ctx: TenantContext, snapshot: ListingSnapshot): ListingFinding[] {
    return findSecrets(snapshot);
  }
}
