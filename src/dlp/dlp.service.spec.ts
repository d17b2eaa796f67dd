import type { EntityManager } from '@mikro-orm/postgresql';
import { describe, expect, it } from 'vitest';
import type { AuditInput, AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { requestStorage, systemContext, type RequestStore } from '../tenancy/request-store.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import type { DlpRule } from './dlp-scan.js';
import { DlpService } from './dlp.service.js';

/** A DlpService over a stored policy of `rules`, recording the events it writes alone. */
function service(rules: DlpRule[] | null) {
  const alone: AuditInput[] = [];
  const tenancy = {
    run: (_ctx: unknown, fn: (em: unknown) => Promise<unknown>) =>
      fn({ findOne: () => Promise.resolve(rules ? { rules, version: 1, updatedAt: new Date() } : null) }),
  } as unknown as TenancyService;
  const audit = {
    recordAlone: (input: AuditInput) => {
      alone.push(input);
      return Promise.resolve();
    },
  } as unknown as AuditService;
  return { dlp: new DlpService({} as EntityManager, tenancy, audit), alone };
}

const inCompany = <T>(fn: () => Promise<T>): Promise<T> =>
  requestStorage.run(
    { tenant: systemContext('c0ffee00-0000-7000-8000-000000000001'), requestId: 'r' } as RequestStore,
    fn,
  );

const snapshot = (description: string) => ({
  name: 'Vendor onboarding',
  description,
  steps: [{ id: 'a', kind: 'tool', input: { note: 'plain' } }],
});

describe('DlpService.scanListing', () => {
  const KEY = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;

  it('always refuses a secret, even without any policy, naming detector and path only', async () => {
    const { dlp, alone } = service(null);
    const error = await inCompany(() => dlp.scanListing(snapshot(`token ${KEY}`))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.status).toBe(422);
    expect(e.code).toBe('DLP_BLOCKED');
    expect(e.errors).toEqual([
      expect.objectContaining({
        detector: 'secret',
        path: 'listing.description',
        field: 'listing.description',
      }),
    ]);
    expect(JSON.stringify(e)).not.toContain(KEY);
    expect(e.detail).not.toContain(KEY);
    expect(alone).toHaveLength(1);
    expect(alone[0].action).toBe('dlp.blocked');
    expect(alone[0].metadata).toEqual({
      scope: 'listing',
      detectors: { secret: 1 },
      paths: ['listing.description'],
    });
  });

  it('finds secrets in nested step inputs and keys', async () => {
    const { dlp } = service(null);
    const nested = { steps: [{ input: { auth: `Bearer ${KEY}` } }] };
    await expect(inCompany(() => dlp.scanListing(nested))).rejects.toMatchObject({
      errors: [expect.objectContaining({ path: 'listing.steps.0.input.auth' })],
    });
  });

  it("applies the publisher's listing rules (redact) and passes a clean snapshot unchanged", async () => {
    const { dlp, alone } = service([
      { detector: 'email', action: 'redact', scopes: ['listing'] },
      { detector: 'us_ssn', action: 'block', scopes: ['workspace'] },
    ]);
    const clean = snapshot('Onboards a vendor');
    const same = await inCompany(() => dlp.scanListing(clean));
    expect(same.value).toBe(clean);
    expect(same.hits).toEqual([]);

    const r = await inCompany(() => dlp.scanListing(snapshot('Ask ops@example.com; ref 123-45-6789')));
    expect(r.blocked).toBe(false);
    expect(r.value.description).toBe('Ask [REDACTED:email]; ref 123-45-6789');
    expect(r.hits).toEqual([{ detector: 'email', action: 'redact', path: 'listing.description', count: 1 }]);
    expect(alone).toEqual([]);
  });
});
