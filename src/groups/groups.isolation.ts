import { randomBytes } from 'node:crypto';
import { call } from '../../test/harness/http.js';
import { defineIsolation, okBody, type Built, type BuildContext } from '../../test/harness/isolation.js';

const hex = () => randomBytes(4).toString('hex');

/** A group holding a permission, with one member (the company's member actor). */
async function group({ t, s }: BuildContext): Promise<Built> {
  const key = `xt-group-${hex()}`;
  const g = okBody(
    await call(t, 'POST', '/v1/groups', {
      token: s.admin.accessToken,
      body: {
        key,
        name: `XT Group ${key}`,
        description: `Secret group ${key}`,
        permissions: ['runs:verdict'],
      },
    }),
    'group',
  );
  okBody(
    await call(t, 'PUT', `/v1/groups/${g.id as string}/members/${s.member.userId}`, {
      token: s.admin.accessToken,
    }),
    'group member',
  );
  return { id: g.id as string, markers: [g.id as string, key], extra: { userId: s.member.userId } };
}

/**
 * Groups' part of the cross-tenant and audit-coverage suites: another company's group (or a member of another
 * company) answers 404 like a missing one, and every change is audited with its request id.
 */
export const isolation = defineIsolation({
  fixtures: {
    group,
    groupMember: async ({ need }) => {
      const g = await need('group');
      return { id: g.extra!.userId, markers: [] };
    },
  },
  routes: {
    'GET /v1/groups/{id}': { params: { id: 'group' } },
    'PATCH /v1/groups/{id}': { params: { id: 'group' }, body: () => ({ name: 'Probe' }) },
    'DELETE /v1/groups/{id}': { params: { id: 'group' } },
    'GET /v1/groups/{id}/members': { params: { id: 'group' } },
    'PUT /v1/groups/{id}/members/{userId}': { params: { id: 'group', userId: 'member' } },
    'DELETE /v1/groups/{id}/members/{userId}': { params: { id: 'group', userId: 'groupMember' } },
  },
  recipes: {
    'POST /v1/groups': {
      actions: ['group.created'],
      run: async ({ a, send }) => ({
        res: await send('POST', '/v1/groups', {
          token: a.admin.accessToken,
          body: { key: `audit-${hex()}`, name: 'Audit group', permissions: ['runs:verdict'] },
        }),
        companyId: a.companyId,
      }),
    },
    'PATCH /v1/groups/{id}': {
      actions: ['group.updated'],
      run: async ({ a, prep, send }) => {
        const g = await prep('POST', '/v1/groups', a.admin, {
          key: `audit-${hex()}`,
          name: 'Audit group',
          permissions: [],
        });
        return {
          res: await send('PATCH', `/v1/groups/${g.id as string}`, {
            token: a.admin.accessToken,
            body: { name: 'Renamed', permissions: ['connectors:write'] },
          }),
          companyId: a.companyId,
        };
      },
    },
    'DELETE /v1/groups/{id}': {
      actions: ['group.deleted'],
      run: async ({ a, prep, send }) => {
        const g = await prep('POST', '/v1/groups', a.admin, {
          key: `audit-${hex()}`,
          name: 'Audit group',
          permissions: [],
        });
        return {
          res: await send('DELETE', `/v1/groups/${g.id as string}`, { token: a.admin.accessToken }),
          companyId: a.companyId,
        };
      },
    },
    'PUT /v1/groups/{id}/members/{userId}': {
      actions: ['group.member_added'],
      run: async ({ a, prep, send }) => {
        const g = await prep('POST', '/v1/groups', a.admin, {
          key: `audit-${hex()}`,
          name: 'Audit group',
          permissions: ['runs:verdict'],
        });
        return {
          res: await send('PUT', `/v1/groups/${g.id as string}/members/${a.member.userId}`, {
            token: a.admin.accessToken,
          }),
          companyId: a.companyId,
        };
      },
    },
    'DELETE /v1/groups/{id}/members/{userId}': {
      actions: ['group.member_removed'],
      run: async ({ a, prep, send }) => {
        const g = await prep('POST', '/v1/groups', a.admin, {
          key: `audit-${hex()}`,
          name: 'Audit group',
          permissions: [],
        });
        await prep('PUT', `/v1/groups/${g.id as string}/members/${a.member.userId}`, a.admin);
        return {
          res: await send('DELETE', `/v1/groups/${g.id as string}/members/${a.member.userId}`, {
            token: a.admin.accessToken,
          }),
          companyId: a.companyId,
        };
      },
    },
  },
});
