import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/common/ids.js';
import { CompanyPurgeService } from '../src/companies/company-purge.service.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { call, type CallOptions } from './harness/http.js';
import { expectProblem, withoutRequestId } from './harness/problem.js';
import { client } from './harness/runs.js';
import { createCompanySession, type Actor, type CompanySession } from './harness/session.js';

// Response bodies are loosely typed JSON on purpose (supertest's bodies are `any`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const hex = () => randomBytes(4).toString('hex');

/** The fields a community listing shows, and nothing else. */
const SUMMARY_FIELDS = [
  'category',
  'description',
  'installCount',
  'key',
  'listedAt',
  'listingId',
  'name',
  'publisherName',
  'source',
  'stepCount',
  'summary',
  'version',
];
const DETAIL_FIELDS = [...SUMMARY_FIELDS, 'inputSchema', 'steps'].sort();

/** Every key and every scalar of a JSON value, as strings. */
function leaves(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) leaves(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      leaves(v, out);
    }
  } else {
    out.push(String(value));
  }
  return out;
}

describe('community marketplace: listing, re-listing, unlisting and installing across companies', () => {
  let t: TestApp;
  /** The publisher. */
  let a: CompanySession;
  /** An installer. */
  let b: CompanySession;

  const req = (method: string, path: string, actor: Actor, options: Omit<CallOptions, 'token'> = {}) =>
    call(t, method, path, { token: actor.accessToken, ...options });

  const ok = (res: Response, status = 200): Json => {
    expect(
      res.status,
      `${(res as unknown as { req: { path: string } }).req.path} ${res.status} ${res.text}`,
    ).toBe(status);
    return res.body as Json;
  };

  const steps = (prompt = 'Approve the vendor {{input.vendor}}?') => [
    { id: 'lookup', kind: 'tool', name: 'Look the vendor up', toolId: 'erp.vendor.lookup', input: {} },
    { id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt },
  ];

  /** Creates (and publishes, unless told not to) a draft of `s`; returns the draft body after publishing. */
  const newDraft = async (
    s: CompanySession,
    body: Json = {},
    publish = true,
  ): Promise<{ id: string; versionId: string | null; key: string; name: string }> => {
    const created = ok(
      await req('POST', '/v1/drafts', s.manager, {
        body: {
          name: `Vendor check ${hex()}`,
          description: 'Checks a vendor before paying',
          category: 'procurement',
          inputSchema: {
            type: 'object',
            properties: { vendor: { type: 'string', title: 'Vendor' } },
            required: ['vendor'],
          },
          steps: steps(),
          ...body,
        },
      }),
      201,
    );
    if (!publish) return { id: created.id, versionId: null, key: created.key, name: created.name };
    const published = ok(await req('POST', `/v1/drafts/${created.id}/publish`, s.manager));
    return { id: created.id, versionId: published.publishedVersionId, key: created.key, name: created.name };
  };

  const listDraft = (s: CompanySession, draftId: string, body: Json, actor: Actor = s.manager) =>
    req('POST', `/v1/drafts/${draftId}/listing`, actor, { body });

  const events = async (companyId: string, action: string) =>
    (
      await t.owner.query(
        'select actor_id, target_id, metadata, request_id from audit_events where company_id = $1 and action = $2 order by seq',
        [companyId, action],
      )
    ).rows as Json[];

  beforeAll(async () => {
    t = await startTestApp();
    [a, b] = await Promise.all([
      createCompanySession(t, `Publisher ${hex()}`),
      createCompanySession(t, `Installer ${hex()}`),
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists a published version as a copy every company reads, and audits it in the publisher’s trail', async () => {
    const draft = await newDraft(a);
    const listing = ok(
      await listDraft(a, draft.id, { publisherName: 'Vendor Tools Guild', summary: 'Vendor checks, simply' }),
    );
    expect(Object.keys(listing).sort()).toEqual(DETAIL_FIELDS);
    expect(listing).toMatchObject({
      source: 'community',
      key: null,
      version: null,
      name: draft.name,
      category: 'procurement',
      stepCount: 2,
      publisherName: 'Vendor Tools Guild',
      summary: 'Vendor checks, simply',
      installCount: 0,
    });
    expect(listing.steps).toEqual(steps());

    // B sees it in the community list and in detail.
    const page = ok(await req('GET', '/v1/marketplace?source=community&limit=100', b.member));
    expect(page.data.map((l: Json) => l.listingId)).toContain(listing.listingId);
    expect(ok(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member))).toEqual(listing);

    // The publisher's own view: the same listing, and the version it copies; B's view of A's draft is a 404.
    const own = ok(await req('GET', `/v1/drafts/${draft.id}/listing`, a.member));
    expect(own).toEqual({ ...listing, versionId: draft.versionId });
    const missing = await req('GET', `/v1/drafts/${newId()}/listing`, b.member);
    const probe = await req('GET', `/v1/drafts/${draft.id}/listing`, b.member);
    expectProblem(probe, 404, 'NOT_FOUND');
    expect(withoutRequestId(probe.body)).toEqual(withoutRequestId(missing.body));
    const unlisted = await newDraft(a);
    const notListed = await req('GET', `/v1/drafts/${unlisted.id}/listing`, a.member);
    expectProblem(notListed, 404, 'NOT_FOUND');
    expect(notListed.body.detail).toBe('Listing not found');

    const listed = await events(a.companyId, 'marketplace.listed');
    expect(listed.at(-1)).toMatchObject({
      actor_id: a.manager.userId,
      target_id: draft.id,
      metadata: { listingId: listing.listingId, versionId: draft.versionId, version: 1, replaced: false },
    });
    expect(await events(b.companyId, 'marketplace.listed')).toEqual([]);
  });

  it('re-listing replaces the copy (same listing, count kept); versionId picks an older version', async () => {
    const draft = await newDraft(a);
    const first = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    ok(await req('POST', `/v1/marketplace/${first.listingId}/install`, b.member, { body: {} }), 201);
    ok(await req('PATCH', `/v1/drafts/${draft.id}`, a.manager, { body: { name: `${draft.name} v2` } }));
    const v2 = ok(await req('POST', `/v1/drafts/${draft.id}/publish`, a.manager));
    const second = ok(await listDraft(a, draft.id, { publisherName: 'Guild, renamed', summary: null }));
    expect(second).toMatchObject({
      listingId: first.listingId,
      name: `${draft.name} v2`,
      publisherName: 'Guild, renamed',
      summary: null,
      installCount: 1,
    });
    expect(Date.parse(second.listedAt)).toBeGreaterThanOrEqual(Date.parse(first.listedAt));
    const back = ok(await listDraft(a, draft.id, { publisherName: 'Guild', versionId: draft.versionId }));
    expect(back).toMatchObject({ listingId: first.listingId, name: draft.name });
    const rows = await t.owner.query('select count(*)::int as n from listings where name like $1', [
      `${draft.name}%`,
    ]);
    expect(rows.rows[0].n).toBe(1);
    const listed = (await events(a.companyId, 'marketplace.listed')).filter(
      (e) => e.metadata.listingId === first.listingId,
    );
    expect(listed.map((e) => [e.metadata.version, e.metadata.replaced])).toEqual([
      [1, false],
      [2, true],
      [1, true],
    ]);
    expect(v2.publishedVersion).toBe(2);
  });

  it('refuses drafts that cannot be listed: never published (409), unpublished (409), a foreign version (404), bad bodies (400)', async () => {
    const unpublished = await newDraft(a, {}, false);
    const never = await listDraft(a, unpublished.id, { publisherName: 'Guild' });
    expectProblem(never, 409, 'CONFLICT');
    expect(never.body.detail).toMatch(/no published version/);

    const other = await newDraft(a);
    ok(await req('POST', `/v1/drafts/${other.id}/unpublish`, a.manager));
    expectProblem(await listDraft(a, other.id, { publisherName: 'Guild' }), 409, 'CONFLICT');

    const draft = await newDraft(a);
    const third = await newDraft(a);
    expectProblem(
      await listDraft(a, draft.id, { publisherName: 'Guild', versionId: third.versionId }),
      404,
      'NOT_FOUND',
    );
    for (const body of [
      {},
      { publisherName: '' },
      { publisherName: '   ' },
      { publisherName: 'x'.repeat(101) },
      { publisherName: 'Guild', versionId: 'nope' },
      { publisherName: 'Guild', companyId: b.companyId },
      { publisherName: 'Guild', summary: 'x'.repeat(501) },
    ]) {
      expectProblem(await listDraft(a, draft.id, body), 400, 'VALIDATION_FAILED');
    }
    expectProblem(await listDraft(a, newId(), { publisherName: 'Guild' }), 404, 'NOT_FOUND');
    expect(await t.owner.query('select 1 from draft_listings where draft_id = $1', [draft.id])).toMatchObject(
      {
        rowCount: 0,
      },
    );
  });

  it('unlisting removes it from every marketplace at once; installed copies stay', async () => {
    const draft = await newDraft(a);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    const copy = ok(
      await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }),
      201,
    );
    const res = await req('DELETE', `/v1/drafts/${draft.id}/listing`, a.manager);
    expect(res.status, res.text).toBe(204);

    expectProblem(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member), 404, 'NOT_FOUND');
    expectProblem(
      await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }),
      404,
      'NOT_FOUND',
    );
    const page = ok(await req('GET', '/v1/marketplace?source=community&limit=100', b.member));
    expect(page.data.map((l: Json) => l.listingId)).not.toContain(listing.listingId);
    expect(ok(await req('GET', `/v1/drafts/${copy.id}`, b.member)).steps).toEqual(steps());
    expect(await t.owner.query('select 1 from listings where id = $1', [listing.listingId])).toMatchObject({
      rowCount: 0,
    });

    const unlisted = await events(a.companyId, 'marketplace.unlisted');
    expect(unlisted.at(-1)).toMatchObject({
      actor_id: a.manager.userId,
      target_id: draft.id,
      metadata: { listingId: listing.listingId, installCount: 1 },
    });
    // Not listed (any more): 404 Listing; listing again makes a new listing.
    const again = await req('DELETE', `/v1/drafts/${draft.id}/listing`, a.manager);
    expectProblem(again, 404, 'NOT_FOUND');
    expect(again.body.detail).toBe('Listing not found');
    const relisted = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    expect(relisted.listingId).not.toBe(listing.listingId);
    expect(relisted.installCount).toBe(0);
  });

  it('installs an independent copy into the installer’s company; the installer stays private', async () => {
    const draft = await newDraft(a);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    const res = await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} });
    const copy = ok(res, 201);
    expect(copy).toMatchObject({
      name: listing.name,
      category: 'procurement',
      status: 'draft',
      version: 1,
      publishedVersionId: null,
      createdBy: b.member.userId,
    });
    expect(copy.steps).toEqual(listing.steps);
    expect(copy.inputSchema).toEqual(listing.inputSchema);
    expect(JSON.stringify(copy)).not.toContain(listing.listingId);
    expect(JSON.stringify(copy)).not.toContain(draft.id);
    const rows = await t.owner.query('select company_id from drafts where id = $1', [copy.id]);
    expect(rows.rows).toEqual([{ company_id: b.companyId }]);

    // Editing the copy changes nothing of the listing.
    ok(await req('PATCH', `/v1/drafts/${copy.id}`, b.member, { body: { name: 'Ours now' } }));
    const after = ok(await req('GET', `/v1/marketplace/${listing.listingId}`, a.member));
    expect(after).toMatchObject({ name: listing.name, installCount: 1 });

    // The installer's trail has the install with the listing id; the publisher's has nothing of it.
    const installed = await events(b.companyId, 'marketplace.installed');
    expect(installed.at(-1)).toMatchObject({
      actor_id: b.member.userId,
      target_id: copy.id,
      metadata: { listingId: listing.listingId, source: 'community', draftId: copy.id },
    });
    const publisherTrail = await t.owner.query(
      'select metadata::text as m, target_id from audit_events where company_id = $1',
      [a.companyId],
    );
    for (const row of publisherTrail.rows as Json[]) {
      for (const secret of [b.companyId, copy.id, b.member.userId]) {
        expect(`${row.m} ${row.target_id}`).not.toContain(secret);
      }
    }
    // No table but the installer's own holds anything of the install.
    const listingRow = await t.owner.query('select row_to_json(l)::text as j from listings l where id = $1', [
      listing.listingId,
    ]);
    for (const secret of [b.companyId, copy.id, b.member.userId]) {
      expect(listingRow.rows[0].j).not.toContain(secret);
    }
  });

  it('every field of a listing, as another company sees it, carries none of the publisher’s identifiers', async () => {
    // A publisher with everything a company has: members, a connector, a run, a keyed draft.
    const connector = ok(
      await req('POST', '/v1/connectors', a.admin, {
        body: { toolId: 'erp.vendor.lookup', endpointUrl: 'https://example.com/hook', authScheme: 'none' },
      }),
      201,
    );
    const key = `procurement.walk-${hex()}`;
    const draft = await newDraft(a, { key, name: `Walked ${hex()}` });
    const run = await req('POST', '/v1/runs', a.member, {
      body: { draftVersionId: draft.versionId, input: { vendor: 'ACME' } },
    });
    expect(run.status, run.text).toBe(202);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Anonymous Guild', summary: 'A walk' }));
    const members = [a.owner, a.admin, a.manager, a.member];
    const markers = [
      a.companyId,
      a.slug,
      a.name,
      draft.id,
      draft.versionId!,
      key,
      connector.id as string,
      run.body.id as string,
      ...members.flatMap((m) => [m.userId, m.email]),
    ];
    const mapping = await t.owner.query('select id from draft_listings where draft_id = $1', [draft.id]);
    markers.push(mapping.rows[0].id as string);

    const seen: Json[] = [];
    // The list, every page, both ways (community only, and everything).
    for (const query of ['source=community', '']) {
      let cursor: string | null = null;
      do {
        const page: Json = ok(
          await req(
            'GET',
            `/v1/marketplace?limit=100&${query}${cursor ? `&cursor=${cursor}` : ''}`,
            b.member,
          ),
        );
        seen.push(...(page.data as Json[]).filter((l) => l.listingId === listing.listingId));
        cursor = page.nextCursor as string | null;
      } while (cursor);
    }
    const detail = ok(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member));
    seen.push(detail);
    expect(seen).toHaveLength(3);
    expect(Object.keys(seen[0]).sort()).toEqual([...SUMMARY_FIELDS].sort());
    expect(Object.keys(detail).sort()).toEqual(DETAIL_FIELDS);
    for (const value of seen) {
      for (const leaf of leaves(value)) {
        for (const marker of markers) {
          expect(leaf.toLowerCase(), `a listing field shows ${marker}`).not.toContain(marker.toLowerCase());
        }
      }
    }
    // The install copies the same (and the installer's draft names none of it either).
    const copy = ok(
      await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }),
      201,
    );
    for (const leaf of leaves({ ...copy, createdBy: null, updatedBy: null })) {
      for (const marker of markers) expect(leaf).not.toContain(marker);
    }
  });

  it('company B cannot list or unlist A’s drafts (404 like a missing id), and A’s listing is untouched', async () => {
    const draft = await newDraft(a);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    for (const actor of [b.owner, b.manager]) {
      const missingPost = await listDraft(b, newId(), { publisherName: 'Probe' }, actor);
      const probePost = await listDraft(b, draft.id, { publisherName: 'Probe' }, actor);
      expectProblem(probePost, 404, 'NOT_FOUND');
      expect(withoutRequestId(probePost.body)).toEqual(withoutRequestId(missingPost.body));
      const missingDelete = await req('DELETE', `/v1/drafts/${newId()}/listing`, actor);
      const probeDelete = await req('DELETE', `/v1/drafts/${draft.id}/listing`, actor);
      expectProblem(probeDelete, 404, 'NOT_FOUND');
      expect(withoutRequestId(probeDelete.body)).toEqual(withoutRequestId(missingDelete.body));
    }
    expect(ok(await req('GET', `/v1/marketplace/${listing.listingId}`, a.member))).toEqual(listing);
  });

  it('row-level security: any company reads a listing; only its publisher’s company writes it, even by hand', async () => {
    const draft = await newDraft(a);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    const id = listing.listingId as string;
    const sql = await t.appRole.connect();
    const as = async <T>(companyId: string | null, fn: () => Promise<T>): Promise<T> => {
      await sql.query('begin');
      try {
        if (companyId) await sql.query("select set_config('app.company_id', $1, true)", [companyId]);
        return await fn();
      } finally {
        await sql.query('rollback');
      }
    };
    try {
      // Reads: any company's session; none without a company.
      expect(
        (await as(b.companyId, () => sql.query('select 1 from listings where id = $1', [id]))).rowCount,
      ).toBe(1);
      expect((await as(null, () => sql.query('select 1 from listings where id = $1', [id]))).rowCount).toBe(
        0,
      );
      // Writes of another company: no row matches, an insert in A's name is refused.
      expect(
        (await as(b.companyId, () => sql.query("update listings set name = 'Hijacked' where id = $1", [id])))
          .rowCount,
      ).toBe(0);
      expect(
        (await as(b.companyId, () => sql.query('delete from listings where id = $1', [id]))).rowCount,
      ).toBe(0);
      await expect(
        as(b.companyId, () =>
          sql.query(
            `insert into listings (id, publisher_company_id, name, description, category, input_schema, steps, publisher_name, listed_at)
             values (gen_random_uuid(), $1, 'Forged', 'x', 'finance', '{}', '[]', 'A', now())`,
            [a.companyId],
          ),
        ),
      ).rejects.toThrow(/row-level security/);
      // Nobody sets the install count by hand, not even the publisher.
      await expect(
        as(a.companyId, () => sql.query('update listings set install_count = 1000 where id = $1', [id])),
      ).rejects.toThrow(/permission denied/);
      // The publisher's company may (the service does exactly this, in a transaction).
      expect(
        (await as(a.companyId, () => sql.query("update listings set name = 'Renamed' where id = $1", [id])))
          .rowCount,
      ).toBe(1);
      // The install function counts one, only for the company of the session, and nothing else.
      expect(
        (await as(b.companyId, () => sql.query('select listing_installed($1, $2) as n', [a.companyId, id])))
          .rows[0].n,
      ).toBeNull();
      expect(
        (await as(b.companyId, () => sql.query('select listing_installed($1, $2) as n', [b.companyId, id])))
          .rows[0].n,
      ).toBe(1);
    } finally {
      sql.release();
    }
    expect(ok(await req('GET', `/v1/marketplace/${id}`, b.member))).toEqual(listing);
  });

  it('roles: a member cannot list or unlist (404, audited), a member can install', async () => {
    const draft = await newDraft(a);
    const missing = await listDraft(a, newId(), { publisherName: 'Guild' }, a.member);
    const denied = await listDraft(a, draft.id, { publisherName: 'Guild' }, a.member);
    expectProblem(denied, 404, 'NOT_FOUND');
    expect(withoutRequestId(denied.body)).toEqual(withoutRequestId(missing.body));
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }, a.admin));
    expectProblem(await req('DELETE', `/v1/drafts/${draft.id}/listing`, a.member), 404, 'NOT_FOUND');
    const deniedEvents = await t.owner.query(
      "select metadata from audit_events where company_id = $1 and action = 'authorization.denied' and target_id = $2",
      [a.companyId, draft.id],
    );
    expect(deniedEvents.rows.map((r) => r.metadata.route)).toEqual([
      'POST /v1/drafts/:id/listing',
      'DELETE /v1/drafts/:id/listing',
    ]);
    ok(await req('POST', `/v1/marketplace/${listing.listingId}/install`, a.member, { body: {} }), 201);
    ok(await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }), 201);
    expect(ok(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member)).installCount).toBe(2);
    expect((await req('DELETE', `/v1/drafts/${draft.id}/listing`, a.owner)).status).toBe(204);
  });

  it('refuses a listing that carries a secret: 422 DLP_BLOCKED with kinds and paths, never the text', async () => {
    const secrets = {
      aws: 'AKIAIOSFODNN7EXAMPLE',
      live: `sk_live_${randomBytes(12).toString('hex')}`,
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----',
    };
    const draft = await newDraft(a, {
      description: `Uses ${secrets.live} to pay`,
      inputSchema: {
        type: 'object',
        properties: { vendor: { type: 'string', default: secrets.jwt } },
      },
      steps: [
        {
          id: 'lookup',
          kind: 'tool',
          name: 'Look up',
          toolId: 'erp.vendor.lookup',
          input: { key: secrets.pem },
        },
        { id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: `Key ${secrets.aws}?` },
      ],
    });
    const before = await t.owner.query('select count(*)::int as n from listings');
    const res = await listDraft(a, draft.id, { publisherName: 'Guild', summary: 'Plain' });
    expectProblem(res, 422, 'DLP_BLOCKED');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'description', message: 'secret (live_api_key) detected' },
        { field: 'inputSchema.properties.vendor.default', message: 'secret (jwt) detected' },
        { field: 'steps.0.input.key', message: 'secret (pem_private_key) detected' },
        { field: 'steps.1.prompt', message: 'secret (aws_access_key) detected' },
      ]),
    );
    const text = JSON.stringify(res.body) + JSON.stringify(res.headers);
    for (const secret of Object.values(secrets)) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 12));
    }
    expect((await t.owner.query('select count(*)::int as n from listings')).rows[0].n).toBe(before.rows[0].n);
    expect((await events(a.companyId, 'marketplace.listed')).filter((e) => e.target_id === draft.id)).toEqual(
      [],
    );
    // A secret in the publisher's own fields is refused the same way.
    const clean = await newDraft(a);
    const named = await listDraft(a, clean.id, { publisherName: 'Guild', summary: `call ${secrets.aws}` });
    expectProblem(named, 422, 'DLP_BLOCKED');
    expect(named.body.errors).toEqual([{ field: 'summary', message: 'secret (aws_access_key) detected' }]);
  });

  it('concurrent installs are counted exactly', async () => {
    const draft = await newDraft(a);
    const listing = ok(await listDraft(a, draft.id, { publisherName: 'Guild' }));
    const installers = [b.member, b.manager, b.admin, b.owner, a.member];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        req('POST', `/v1/marketplace/${listing.listingId}/install`, installers[i % installers.length], {
          body: {},
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(20);
    expect(ok(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member)).installCount).toBe(20);
  });

  it('one keyset over both sources: the catalog by key, then community listings newest first, with filters', async () => {
    const c = client(t, b.member);
    const tag = hex();
    const mine = [];
    for (let i = 0; i < 3; i++) {
      const d = await newDraft(a, { name: `Keyset ${tag} ${i}`, category: 'legal' });
      mine.push(ok(await listDraft(a, d.id, { publisherName: 'Guild' })).listingId as string);
    }
    const all: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = ok(await c.get(`/v1/marketplace?limit=17${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.data.length).toBeLessThanOrEqual(17);
      all.push(...(page.data as Json[]));
      cursor = page.nextCursor as string | null;
    } while (cursor);
    const catalog = all.filter((l) => l.source === 'catalog');
    const community = all.filter((l) => l.source === 'community');
    expect(catalog).toHaveLength(45);
    expect(all.slice(0, 45)).toEqual(catalog);
    expect(new Set(all.map((l) => l.listingId)).size).toBe(all.length);
    expect(catalog[0]).toMatchObject({ publisherName: null, listedAt: null, installCount: null });
    expect(typeof catalog[0].key).toBe('string');
    const ids = community.map((l) => l.listingId as string);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(ids.slice(0, 3)).toEqual([...mine].reverse());

    const onlyCatalog = ok(await c.get('/v1/marketplace?source=catalog&limit=100'));
    expect(onlyCatalog.data).toHaveLength(45);
    expect(onlyCatalog.nextCursor).toBeNull();
    const filtered = ok(await c.get(`/v1/marketplace?source=community&category=legal&q=KEYSET ${tag}`));
    expect(filtered.data.map((l: Json) => l.listingId)).toEqual([...mine].reverse());
    const paged = ok(await c.get(`/v1/marketplace?source=community&category=legal&q=${tag}&limit=2`));
    expect(paged.data).toHaveLength(2);
    const rest = ok(
      await c.get(
        `/v1/marketplace?source=community&category=legal&q=${tag}&limit=2&cursor=${paged.nextCursor}`,
      ),
    );
    expect(rest.data.map((l: Json) => l.listingId)).toEqual([mine[0]]);
    expect(rest.nextCursor).toBeNull();
    expectProblem(
      await c.get(`/v1/marketplace?source=catalog&cursor=${paged.nextCursor}`),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await c.get('/v1/marketplace?source=everything'), 400, 'VALIDATION_FAILED');
  });

  it('scheduling deletion withdraws the publisher’s listings at once; restoring offers them again', async () => {
    const leaving = await createCompanySession(t, `Leaving ${hex()}`);
    const draft = await newDraft(leaving);
    const listing = ok(await listDraft(leaving, draft.id, { publisherName: 'Leaving guild' }));
    const offered = async () =>
      (ok(await req('GET', '/v1/marketplace?source=community&limit=100', b.member)).data as Json[]).some(
        (l) => l.listingId === listing.listingId,
      );
    expect(await offered()).toBe(true);

    ok(await req('DELETE', `/v1/companies/${leaving.companyId}`, leaving.owner), 202);
    expect(await offered()).toBe(false);
    expectProblem(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member), 404, 'NOT_FOUND');
    expectProblem(
      await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }),
      404,
      'NOT_FOUND',
    );
    expect((await events(leaving.companyId, 'company.deletion_scheduled')).at(-1)?.metadata).toMatchObject({
      listingsWithdrawn: 1,
    });

    ok(await req('POST', `/v1/companies/${leaving.companyId}/restore`, leaving.owner));
    expect(await offered()).toBe(true);
    ok(await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }), 201);
    expect((await events(leaving.companyId, 'company.deletion_cancelled')).at(-1)?.metadata).toMatchObject({
      listingsRestored: 1,
    });
  });

  it('a purged publisher takes its listings with it; installed copies stay with their installers', async () => {
    const doomed = await createCompanySession(t, `Doomed ${hex()}`);
    const draft = await newDraft(doomed);
    const listing = ok(await listDraft(doomed, draft.id, { publisherName: 'Short-lived guild' }));
    const copy = ok(
      await req('POST', `/v1/marketplace/${listing.listingId}/install`, b.member, { body: {} }),
      201,
    );
    ok(await req('DELETE', `/v1/companies/${doomed.companyId}`, doomed.owner), 202);
    await t.owner.query("update companies set purge_after = now() - interval '1 minute' where id = $1", [
      doomed.companyId,
    ]);
    expect(await t.app.get(CompanyPurgeService).purgeDue()).toContain(doomed.companyId);
    expectProblem(await req('GET', `/v1/marketplace/${listing.listingId}`, b.member), 404, 'NOT_FOUND');
    const left = await t.owner.query(
      'select (select count(*)::int from listings where publisher_company_id = $1) as listings, (select count(*)::int from draft_listings where company_id = $1) as mappings',
      [doomed.companyId],
    );
    expect(left.rows[0]).toEqual({ listings: 0, mappings: 0 });
    expect(ok(await req('GET', `/v1/drafts/${copy.id}`, b.member)).name).toBe(listing.name);
  });
});
