/// <reference types="vite/client" />
/**
 * What a feature contributes to the suites that walk the whole route table, declared next to its code in
 * `src/<feature>/<feature>.isolation.ts` and discovered here:
 * - `fixtures`: how to create one of each of its rows in a company (cross-tenant suite);
 * - `routes`: for each of its routes with a path parameter, the fixture type of each parameter and a valid body;
 * - `recipes`: for each of its mutating routes, one audited request (audit-coverage suite);
 * - `exempt`: routes either suite may skip, each with its reason.
 * A route of the feature that neither covers nor exempts fails those suites' coverage tests, as for the core.
 */
import type { Response } from 'supertest';
import type { AuditAction } from '../../src/audit/audit-actions.js';
import type { TestApp } from './app.js';
import type { TestEndpoint } from './endpoint.js';
import type { CallOptions } from './http.js';
import type { Actor, CompanySession } from './session.js';

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** Asserts a 2xx and returns the JSON body. */
export function okBody(res: Response, what: string): Json {
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body as Json;
}

/** One row made by a fixture builder. */
export interface Built {
  id: string;
  /** Unique strings of this resource that must never appear in another company's responses. */
  markers: string[];
  /** Other values a dependent builder or a filter needs (a draft's published version, a tool id). */
  extra?: Record<string, string>;
}

export interface BuildContext {
  t: TestApp;
  s: CompanySession;
  endpoint: TestEndpoint;
  /** The fixture of another type in the same company (built once, on first need). */
  need: (type: string) => Promise<Built>;
}

export type FixtureBuilder = (ctx: BuildContext) => Promise<Built>;

export interface RouteCase {
  /** The fixture type of each path parameter. */
  params: Record<string, string>;
  /** A body that would pass validation (given the ids of company A's fixtures, by type). */
  body?: (a: Record<string, string>) => unknown;
  /** Request headers that would pass (e.g. `If-Match: "1"`). */
  headers?: Record<string, string>;
}

export interface RecipeContext {
  t: TestApp;
  /** A company shared by the recipes that do not need one of their own. */
  a: CompanySession;
  /** A company of its own (for deleting, restoring, transferring ownership). */
  fresh: () => Promise<CompanySession>;
  endpoint: TestEndpoint;
  outbox: string;
  /** A preparation request (not the one under test): asserts a 2xx and returns the body. */
  prep: (method: string, path: string, actor: Actor | null, body?: unknown) => Promise<Json>;
  /** The request under test, sent once, with the recipe's X-Request-Id. */
  send: (method: string, path: string, options?: CallOptions) => Promise<Response>;
}

export interface Recipe {
  /** The actions the route may record for this request (every event carrying its request id must be one). */
  actions: AuditAction[];
  /** Performs one successful request; returns it and the company whose trail must record it. */
  run: (ctx: RecipeContext) => Promise<{ res: Response; companyId: string }>;
}

export interface IsolationKit {
  fixtures?: Record<string, FixtureBuilder>;
  routes?: Record<string, RouteCase>;
  recipes?: Record<string, Recipe>;
  /** Routes the cross-tenant suite may skip (no path parameter of a company's row), with the reason. */
  exemptCrossTenant?: Record<string, string>;
  /** Collection routes (GET, no id) whose plain call does not answer 200, with the status it does answer. */
  collectionStatus?: Record<string, number>;
  /** Mutating routes the audit-coverage suite may skip (they change nothing), with the reason. */
  exemptAudit?: Record<string, string>;
}

/** Declares a feature's isolation kit (typed identity). */
export function defineIsolation(kit: IsolationKit): IsolationKit {
  return kit;
}

/** Every feature's kit, found by file name (`src/<feature>/<feature>.isolation.ts`). */
export function featureKits(): IsolationKit[] {
  const modules = import.meta.glob<{ isolation: IsolationKit }>('../../src/*/*.isolation.ts', {
    eager: true,
  });
  return Object.entries(modules).map(([file, mod]) => {
    if (!mod.isolation) throw new Error(`${file} must export \`isolation\` (defineIsolation({...}))`);
    return mod.isolation;
  });
}

/** Merges the core's table with the features', refusing a key declared twice. */
export function mergeTables<T>(
  core: Record<string, T>,
  pick: (kit: IsolationKit) => Record<string, T> | undefined,
): Record<string, T> {
  const out: Record<string, T> = { ...core };
  for (const kit of featureKits()) {
    for (const [key, value] of Object.entries(pick(kit) ?? {})) {
      if (Object.hasOwn(out, key)) throw new Error(`${key} is declared twice in the isolation tables`);
      out[key] = value;
    }
  }
  return out;
}
