import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { collectRoutes as collectFrom, type RouteInfo } from '../../src/authz/route-table.js';

export { routeKey, type RouteInfo } from '../../src/authz/route-table.js';

/** Every controller route of the running application, read from Nest's metadata, sorted. */
export function collectRoutes(app: NestFastifyApplication): RouteInfo[] {
  return collectFrom(app.get(ModulesContainer));
}

/** The path parameters of a route (`{companyId}`, `{id}`, …). */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

export function isMutating(route: RouteInfo): boolean {
  return route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'OPTIONS';
}

/** The route's path with its `{param}`s replaced (every one must have a value). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** Whether a concrete request path (no query) is an instance of the route's path pattern. */
export function matchesRoute(path: string, routePath: string): boolean {
  const pattern = routePath.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`).test(path.split('?')[0]);
}
