import { randomBytes } from 'node:crypto';
import { call } from '../../test/harness/http.js';
import { defineIsolation, type Built, type BuildContext, type Json } from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');

/** A policy with a custom rule whose pattern is unique to the company (a marker no other company may see). */
async function dlpPolicy({ t, s }: BuildContext): Promise<Built> {
  const pattern = `XTDLP-${hex()}`;
  const res = await call(t, 'PUT', '/v1/dlp-policy', {
    token: s.admin.accessToken,
    body: { rules: [{ detector: 'custom', action: 'audit', pattern, scopes: ['workspace'] }] },
  });
  if (res.status !== 200) throw new Error(`dlp policy: ${res.status} ${res.text}`);
  return { id: pattern, markers: [pattern] };
}

/**
 * DLP's part of the cross-tenant and audit-coverage suites. The policy is the company's own singleton (no id in
 * any path), so the cross-tenant suite checks it through the markers: another company's GET never shows it.
 */
export const isolation = defineIsolation({
  fixtures: { dlpPolicy },
  recipes: {
    'PUT /v1/dlp-policy': {
      actions: ['dlp.policy_updated'],
      run: async ({ a, send }) => ({
        res: await send('PUT', '/v1/dlp-policy', {
          token: a.admin.accessToken,
          body: {
            rules: [
              { detector: 'credit_card', action: 'redact', scopes: ['listing'] },
              { detector: 'custom', action: 'audit', pattern: `AUDIT-${hex()}`, scopes: ['run_input'] },
            ],
          } satisfies Json,
        }),
        companyId: a.companyId,
      }),
    },
  },
  exemptAudit: {
    'POST /v1/dlp-policy/test':
      'scans the text it is sent against the policy and answers offsets; nothing changes',
  },
});
