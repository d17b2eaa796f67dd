import { randomBytes } from 'node:crypto';
import { defineIsolation } from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');

const SCOPED_BY_CREDENTIAL =
  "no path parameter: the account is the one of the credential's company, answered to its owner only (others 403); test/accounts.e2e-spec.ts checks that another account's owner and every other role get 403 and no row of another company";

export const isolation = defineIsolation({
  exemptCrossTenant: {
    'GET /v1/account': SCOPED_BY_CREDENTIAL,
    'GET /v1/account/usage': SCOPED_BY_CREDENTIAL,
  },
  recipes: {
    'POST /v1/account/companies': {
      actions: ['company.created', 'member.joined', 'account.company_created'],
      run: async ({ fresh, send }) => {
        const s = await fresh();
        const res = await send('POST', '/v1/account/companies', {
          token: s.owner.accessToken,
          body: { name: `Audit Account Co ${hex()}` },
        });
        return { res, companyId: (res.body as { id: string }).id };
      },
    },
    'POST /v1/account/ownership-transfer': {
      actions: ['account.ownership_transferred'],
      run: async ({ fresh, send }) => {
        const s = await fresh();
        return {
          res: await send('POST', '/v1/account/ownership-transfer', {
            token: s.owner.accessToken,
            body: { userId: s.admin.userId },
          }),
          companyId: s.companyId,
        };
      },
    },
  },
});
