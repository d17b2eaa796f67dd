import { describe, expect, it } from 'vitest';
import type { ListingSnapshot } from '../listings/listing.entity.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DlpListingScanner } from './dlp-listing-scanner.js';
import { compilePolicy, walk, type DlpRule, type Hit } from './dlp-scan.js';
import { builtInFinder } from './detectors.js';
import type { DlpService } from './dlp.service.js';

/** The scanner over a stand-in DlpService that applies `rules` (plus the always-on secret rule) and records calls. */
function scanner(rules: DlpRule[]) {
  const blocked: Hit[][] = [];
  const alone: Hit[][] = [];
  const listing = compilePolicy(rules).byScope.listing;
  const dlp = {
    inspectListing: (snapshot: unknown, path: string) =>
      Promise.resolve(
        walk(
          [{ detector: 'secret', action: 'block', find: builtInFinder('secret') }, ...listing],
          snapshot,
          path,
        ),
      ),
    recordBlocked: (_scope: string, hits: Hit[]) => {
      blocked.push(hits);
      return Promise.resolve();
    },
    recordAlone: (_scope: string, result: { hits: Hit[] }) => {
      alone.push(result.hits);
      return Promise.resolve();
    },
  } as unknown as DlpService;
  return { scan: new DlpListingScanner(dlp), blocked, alone };
}

const ctx = {} as TenantContext;
const snapshot = (description: string) =>
  ({
    name: 'Vendor check',
    description,
    category: 'procurement',
    inputSchema: { type: 'object' },
    steps: [],
    publisherName: 'Guild',
    summary: null,
  }) as unknown as ListingSnapshot;

describe('DlpListingScanner', () => {
  it('refuses secrets without a policy, each named by its kind (one list: SECRET_KINDS)', async () => {
    const { scan, blocked } = scanner([]);
    const stripe = `sk_live_${'a1B2c3D4e5F6g7H8i9J0k1L2'}`;
    expect(await scan.scan(ctx, snapshot(`key ${stripe}`))).toEqual([
      { detector: 'secret', kind: 'live_api_key', path: 'description' },
    ]);
    const openai = `sk-proj-${'Ab1'.repeat(16)}`;
    expect(await scan.scan(ctx, snapshot(`key ${openai}`))).toEqual([
      { detector: 'secret', kind: 'ai_api_key', path: 'description' },
    ]);
    expect(blocked).toHaveLength(2);
  });

  it("applies the publisher's listing rules: block refuses, redact rewrites the copy", async () => {
    const { scan, alone } = scanner([
      { detector: 'custom', action: 'block', pattern: 'NOPE-\\d+', scopes: ['listing'] },
      { detector: 'email', action: 'redact', scopes: ['listing'] },
    ]);
    expect(await scan.scan(ctx, snapshot('NOPE-12'))).toEqual([{ detector: 'custom', path: 'description' }]);
    const copy = snapshot('ask ops@example.com');
    expect(await scan.scan(ctx, copy)).toEqual([]);
    expect(copy.description).toBe('ask [REDACTED:email]');
    expect(alone).toEqual([[{ detector: 'email', action: 'redact', path: 'description', count: 1 }]]);
  });
});
