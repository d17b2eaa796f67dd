import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_AUTH, type RouteAuth } from '../src/authz/authorize.decorator.js';
import { isItemRoute } from '../src/authz/authorization.guard.js';
import { startTestApp, type TestApp } from './harness/app.js';

function join(...parts: (string | undefined)[]): string {
  return `/${parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .join('/')}`;
}

function describeAuth(auth: RouteAuth | undefined, path: string): string {
  if (!auth) return 'NONE';
  if (auth.kind === 'public') return 'public';
  if (auth.kind === 'platform') return 'platform operator';
  const scope = isItemRoute(path.replace(/\{(\w+)\}/g, ':$1'))
    ? 'item (404 on denial)'
    : 'collection (403 on denial)';
  const principals = auth.principals ? ` principals=${auth.principals.join(',')}` : '';
  return `can ${auth.action} ${auth.subject}, ${scope}${principals}`;
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
    const lines: string[] = [];
    const modules = t.app.get(ModulesContainer);
    for (const module of modules.values()) {
      for (const wrapper of module.controllers.values()) {
        const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
        if (!type) continue;
        const base = Reflect.getMetadata(PATH_METADATA, type) as string | undefined;
        const classAuth = Reflect.getMetadata(ROUTE_AUTH, type) as RouteAuth | undefined;
        for (const name of Object.getOwnPropertyNames(type.prototype)) {
          const handler = (type.prototype as Record<string, unknown>)[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          if (path === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
          const auth = (Reflect.getMetadata(ROUTE_AUTH, handler) as RouteAuth | undefined) ?? classAuth;
          const fullPath = join(base, path).replace(/:(\w+)/g, '{$1}');
          lines.push(`${method.padEnd(6)} ${fullPath.padEnd(56)} ${describeAuth(auth, fullPath)}`);
        }
      }
    }
    lines.sort();
    expect(
      lines.filter((l) => l.endsWith('NONE')),
      'routes without an authorization declaration',
    ).toEqual([]);
    await expect(lines.join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/routes.txt');
  });
});
