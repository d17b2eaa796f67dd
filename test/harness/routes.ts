import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ROUTE_AUTH, type RouteAuth } from '../../src/authz/authorize.decorator.js';

/** One HTTP route of the application, with the authorization it declares. */
export interface RouteInfo {
  method: string;
  /** The path with `{param}` placeholders, e.g. `/v1/connectors/{id}`. */
  path: string;
  auth: RouteAuth | undefined;
}

function join(...parts: (string | undefined)[]): string {
  return `/${parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .join('/')}`;
}

/** Every controller route of the running application, read from Nest's metadata, sorted. */
export function collectRoutes(app: NestFastifyApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const module of app.get(ModulesContainer).values()) {
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
        routes.push({
          method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
          path: join(base, path).replace(/:(\w+)/g, '{$1}'),
          auth: (Reflect.getMetadata(ROUTE_AUTH, handler) as RouteAuth | undefined) ?? classAuth,
        });
      }
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/** The path parameters of a route (`{companyId}`, `{id}`, …). */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

export function isMutating(route: RouteInfo): boolean {
  return route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'OPTIONS';
}

/** `METHOD /path/{param}`: how suites key their per-route tables. */
export function routeKey(route: { method: string; path: string }): string {
  return `${route.method} ${route.path}`;
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
