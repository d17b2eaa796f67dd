import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { ModulesContainer } from '@nestjs/core';
import { ROUTE_AUTH, type RouteAuth } from './authorize.decorator.js';

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

/** Every controller route of the application, read from Nest's metadata, sorted (route snapshot, MCP, suites). */
export function collectRoutes(modules: ModulesContainer): RouteInfo[] {
  const routes: RouteInfo[] = [];
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

/** `METHOD /path/{param}`: how route tables are keyed. */
export function routeKey(route: { method: string; path: string }): string {
  return `${route.method} ${route.path}`;
}
