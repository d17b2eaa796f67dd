import type { OpenAPIObject } from '@nestjs/swagger';
import type { RouteAuth } from '../authz/authorize.decorator.js';
import { routeKey, type RouteInfo } from '../authz/route-table.js';
import type { ToolSpec } from './mcp-tools.js';

type Schema = Record<string, unknown>;

/** A tool ready to list and call: its route, argument mapping and schemas. */
export interface CatalogTool {
  spec: ToolSpec;
  method: string;
  /** The route's path with `{param}` placeholders. */
  path: string;
  /** `METHOD /path/:param`: the route as Fastify registered it. */
  fastifyRoute: string;
  pathParams: string[];
  queryParams: string[];
  auth: Extract<RouteAuth, { kind: 'ability' }>;
  inputSchema: Schema & { type: 'object' };
  outputSchema?: Schema & { type: 'object' };
}

const REF = '#/components/schemas/';

/** `/v1/runs/{id}` as Fastify names the route: `/v1/runs/:id`. */
export function fastifyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** Makes a schema of the document self-contained JSON Schema (2020-12): `$ref`s into `$defs`, `nullable` into types. */
class SchemaCopier {
  readonly defs: Record<string, Schema> = {};

  constructor(private readonly components: Record<string, Schema>) {}

  copy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.copy(v));
    if (value === null || typeof value !== 'object') return value;
    const source = value as Schema;
    const out: Schema = {};
    for (const [key, v] of Object.entries(source)) {
      if (key === '$ref' && typeof v === 'string' && v.startsWith(REF)) {
        const name = v.slice(REF.length);
        this.define(name);
        out.$ref = `#/$defs/${name}`;
      } else if (key !== 'nullable') {
        out[key] = this.copy(v);
      }
    }
    if (source.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      else if (out.$ref) return { anyOf: [{ $ref: out.$ref }, { type: 'null' }] };
    }
    return out;
  }

  /** The schema a `$ref` (or an inline schema) stands for. */
  resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith(REF)) return this.components[ref.slice(REF.length)] ?? {};
    return schema;
  }

  private define(name: string): void {
    if (name in this.defs) return;
    this.defs[name] = {};
    this.defs[name] = this.copy(this.components[name] ?? {}) as Schema;
  }
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
  description?: string;
}

/**
 * Builds each tool from the OpenAPI document (generated from the DTOs: one source of truth for the input schema)
 * and the route table (the route's `@Authorize` rule decides whether a credential sees the tool). Tools whose
 * route is absent are skipped.
 */
export function buildCatalog(
  doc: OpenAPIObject,
  routes: readonly RouteInfo[],
  specs: readonly ToolSpec[],
): CatalogTool[] {
  const components = (doc.components?.schemas ?? {}) as Record<string, Schema>;
  const byKey = new Map(routes.map((r) => [routeKey(r), r]));
  const tools: CatalogTool[] = [];
  for (const spec of specs) {
    const route = byKey.get(spec.route);
    if (!route || route.auth?.kind !== 'ability') continue;
    const [method, path] = spec.route.split(' ');
    const operation = (doc.paths[path] as Record<string, Schema> | undefined)?.[method.toLowerCase()];
    if (!operation) throw new Error(`MCP tool ${spec.name}: ${spec.route} is not in the OpenAPI document`);
    const copier = new SchemaCopier(components);
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    const pathParams: string[] = [];
    const queryParams: string[] = [];
    for (const param of (operation.parameters ?? []) as Parameter[]) {
      if (param.in !== 'path' && param.in !== 'query') continue;
      if (param.in === 'query' && spec.fixedQuery && param.name in spec.fixedQuery) continue;
      (param.in === 'path' ? pathParams : queryParams).push(param.name);
      properties[param.name] = copier.copy({
        ...(param.schema ?? { type: 'string' }),
        ...(param.description ? { description: param.description } : {}),
      });
      if (param.required || param.in === 'path') required.push(param.name);
    }
    const extra: Schema = {};
    const bodySchema = (operation.requestBody as Schema | undefined)?.content as
      Record<string, { schema?: Schema }> | undefined;
    const body = bodySchema?.['application/json']?.schema;
    if (body) {
      const resolved = copier.resolve(body);
      const addProperties = (schema: Schema) => {
        for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
          if (name === 'ifMatch' || (name in properties && !bodyFields.has(name))) {
            throw new Error(`MCP tool ${spec.name}: body field ${name} collides with a parameter`);
          }
          bodyFields.add(name);
          properties[name] = copier.copy(prop);
        }
      };
      const bodyFields = new Set<string>();
      addProperties(resolved);
      required.push(...((resolved.required ?? []) as string[]));
      // `oneOf` variants (a run starts from a catalog template or a draft version): the arguments are the union
      // of their fields; which ones a variant requires stays as a `oneOf` of required sets.
      for (const key of ['oneOf', 'anyOf'] as const) {
        const variants = resolved[key];
        if (!Array.isArray(variants)) continue;
        const sets = (variants as Schema[]).map((variant) => {
          const schema = copier.resolve(variant);
          addProperties(schema);
          return { required: (schema.required ?? []) as string[] };
        });
        extra[key] = sets;
      }
    }
    if (spec.ifMatch) {
      properties.ifMatch = {
        type: 'string',
        description: 'The version from the last read (its ETag); a stale one is refused',
      };
      required.push('ifMatch');
    }
    const inputSchema = {
      type: 'object' as const,
      properties,
      ...(required.length > 0 ? { required } : {}),
      ...extra,
      additionalProperties: false,
      $defs: copier.defs,
    };
    const responses = (operation.responses ?? {}) as Record<string, Schema>;
    const ok = responses['200'] ?? responses['201'] ?? responses['202'];
    const okSchema = (ok?.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']
      ?.schema;
    const outCopier = new SchemaCopier(components);
    const output = okSchema ? (outCopier.copy(outCopier.resolve(okSchema)) as Schema) : undefined;
    tools.push({
      spec,
      method,
      path,
      fastifyRoute: `${method} ${fastifyPath(path)}`,
      pathParams,
      queryParams,
      auth: route.auth,
      inputSchema,
      ...(output && output.type === 'object'
        ? { outputSchema: { ...output, type: 'object' as const, $defs: outCopier.defs } }
        : {}),
    });
  }
  return tools;
}
