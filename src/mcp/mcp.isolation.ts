import { defineIsolation } from '../../test/harness/isolation.js';

const draft = {
  name: 'MCP audited draft',
  description: 'An audit coverage fixture.',
  category: 'finance',
  inputSchema: { type: 'object', properties: {} },
  steps: [{ id: 'approve', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Pay?' }],
};

export const isolation = defineIsolation({
  recipes: {
    // A tool call runs its route with the transport's request id: the route's own event carries it.
    'POST /mcp': {
      actions: ['run.started'],
      run: async ({ a, prep, send }) => {
        const created = await prep('POST', '/v1/drafts', a.member, {
          ...draft,
          name: `${draft.name} ${a.slug}`,
        });
        const published = await prep('POST', `/v1/drafts/${created.id as string}/publish`, a.manager);
        const res = await send('POST', '/mcp', {
          token: a.member.accessToken,
          headers: { accept: 'application/json, text/event-stream' },
          body: {
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: {
              name: 'start_run',
              arguments: { draftVersionId: published.publishedVersionId as string, input: {} },
            },
          },
        });
        return { res, companyId: a.companyId };
      },
    },
  },
  collectionStatus: { 'GET /mcp': 405 },
  exemptCrossTenant: {
    'GET /.well-known/oauth-protected-resource': 'public discovery metadata of the server, no company data',
    'GET /.well-known/oauth-authorization-server': 'public discovery metadata of the server, no company data',
  },
  exemptAudit: {
    'DELETE /mcp': 'the transport is stateless: there is no session to end (405), nothing changes',
  },
});
