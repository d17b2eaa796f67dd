import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAuth } from '../src/authz/authorize.decorator.js';
import { isItemRoute } from '../src/authz/access-policy.js';
import { permissionForRule } from '../src/authz/permissions.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { collectRoutes } from './harness/routes.js';

function describeAuth(auth: RouteAuth | undefined, path: string): string {
  if (!auth) return 'NONE';
  if (auth.kind === 'public') return auth.authenticate ? 'public (credential optional)' : 'public';
  if (auth.kind === 'platform') return 'platform operator';
  const scope = isItemRoute(path.replace(/\{(\w+)\}/g, ':$1'))
    ? 'item (404 on denial)'
    : 'collection (403 on denial)';
  const principals = (p: string[] | undefined) => (p ? ` principals=${p.join(',')}` : '');
  const variant = auth.variant
    ? `; ?${auth.variant.query}=${auth.variant.value}: ${permissionForRule(auth.variant.action, auth.variant.subject) ?? 'NO PERMISSION'}` +
      principals(auth.variant.principals)
    : '';
  const permission = permissionForRule(auth.action, auth.subject) ?? 'NO PERMISSION';
  return `${permission} (can ${auth.action} ${auth.subject}), ${scope}${principals(auth.principals)}${variant}`;
}

/**
 * Every route's declared authorization, collected into a snapshot: a change to any route's rule shows up as
 * a reviewed diff of test/__snapshots__/routes.txt, and a route that declares nothing fails here.
 */
describe('route authorization declarations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('declares @Public(), @Authorize() or @PlatformOperator() on every route', async () => {
    const lines = collectRoutes(t.app)
      .map((r) => `${r.method.padEnd(6)} ${r.path.padEnd(56)} ${describeAuth(r.auth, r.path)}`)
      .sort();
    expect(
      lines.filter((l) => l.includes('NO PERMISSION')),
      'routes whose rule no permission grants unconditionally',
    ).toEqual([]);
    expect(
      lines.filter((l) => l.endsWith('NONE')),
      'routes without an authorization declaration',
    ).toEqual([]);
    await expect(lines.join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/routes.txt');
  });
});
