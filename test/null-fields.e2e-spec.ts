import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness/app.js';
import { createCompanySession, type CompanySession } from './harness/session.js';

interface Schema {
  $ref?: string;
  properties?: Record<string, unknown>;
  required?: string[];
}
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

const document = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

function resolve(schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref) return document.components.schemas[schema.$ref.split('/').pop() ?? ''];
  return schema;
}

/** Every (method, path, optional field) of every POST and PATCH body in the OpenAPI document. */
const cases: [string, string, string][] = [];
for (const [path, operations] of Object.entries(document.paths)) {
  for (const method of ['post', 'patch']) {
    const content = operations[method]?.requestBody?.content ?? {};
    const schema = resolve(content['application/json']?.schema);
    if (!schema?.properties) continue;
    for (const field of Object.keys(schema.properties)) {
      if (!(schema.required ?? []).includes(field)) cases.push([method, path, field]);
    }
  }
}

/**
 * `null` for an optional field is either accepted (where it means "clear") or refused with a 4xx; never a 5xx.
 * Generated from openapi.json, so a new route or field is covered without touching this file. Paths point at
 * real resources of the caller's company, so the body reaches the service rather than stopping at a 404.
 */
describe('null for every optional body field: never a 5xx', () => {
  let t: TestApp;
  let a: CompanySession;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    a = await createCompanySession(t, 'Nulls');
    const owner = (path: string, body: object) =>
      t.http().post(path).auth(a.owner.accessToken, { type: 'bearer' }).send(body);
    const connector = await owner('/v1/connectors', {
      toolId: 'nulls.tool',
      endpointUrl: 'https://example.com/hook',
      authScheme: 'bearer',
      secret: 'a-secret-value',
    });
    ids.connectors = connector.body.id as string;
    const draft = await owner('/v1/drafts', {
      name: 'Nulls draft',
      description: 'nulls',
      category: 'finance',
      inputSchema: { type: 'object', properties: {} },
      steps: [{ id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Approve?' }],
    });
    ids.drafts = draft.body.id as string;
    ids['api-keys'] = (await owner('/v1/api-keys', { name: 'nulls', role: 'member' })).body.id as string;
    ids.applications = (await owner('/v1/applications', { name: 'nulls', role: 'member' })).body.id as string;
    ids.members = a.member.userId;
    ids.invitations = (await owner('/v1/invitations', { email: 'nulls@example.com', role: 'member' })).body
      .id as string;
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds the bodies to test', () => {
    expect(cases.length).toBeGreaterThan(20);
    expect(cases).toContainEqual(['patch', '/v1/connectors/{id}', 'endpointUrl']);
  });

  function pathFor(template: string): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'companyId') return a.companyId;
      if (name === 'userId') return a.member.userId;
      const resource = template.split('/')[2] ?? '';
      return ids[resource] ?? '01900000-0000-7000-8000-000000000000';
    });
  }

  it.each(cases)('%s %s with %s: null', async (method, template, field) => {
    const path = pathFor(template);
    const request = method === 'post' ? t.http().post(path) : t.http().patch(path);
    const res = await request.auth(a.owner.accessToken, { type: 'bearer' }).send({ [field]: null });
    expect(res.status, `${method.toUpperCase()} ${template} {"${field}": null} → ${res.text}`).toBeLessThan(
      500,
    );
  });
});
