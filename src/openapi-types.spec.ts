import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface SchemaProperty {
  type?: string | string[];
  properties?: unknown;
  additionalProperties?: unknown;
}

describe('the OpenAPI document (openapi.json)', () => {
  it('types every scalar property: none is an object without properties (a nullable string read as `object`)', () => {
    const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as {
      components: { schemas: Record<string, { properties?: Record<string, SchemaProperty> }> };
    };
    const untyped: string[] = [];
    for (const [schema, { properties = {} }] of Object.entries(doc.components.schemas)) {
      for (const [name, p] of Object.entries(properties)) {
        const types = Array.isArray(p.type) ? p.type : [p.type];
        if (types.includes('object') && p.properties === undefined && p.additionalProperties === undefined) {
          untyped.push(`${schema}.${name}`);
        }
      }
    }
    expect(untyped).toEqual([]);
  });
});
