import { expect } from 'vitest';
import type { Response } from 'supertest';
import type { TestApp } from './app.js';
import type { Actor } from './session.js';

/** A client acting as one actor. */
export function client(t: TestApp, actor: Actor) {
  const auth = (r: ReturnType<ReturnType<TestApp['http']>['get']>) =>
    r.auth(actor.accessToken, { type: 'bearer' });
  return {
    get: (path: string) => auth(t.http().get(path)),
    post: (path: string, body?: object, headers: Record<string, string> = {}) =>
      auth(t.http().post(path)).set(headers).send(body),
    patch: (path: string, body: object) => auth(t.http().patch(path)).send(body),
    put: (path: string, body: object = {}) => auth(t.http().put(path)).send(body),
    delete: (path: string) => auth(t.http().delete(path)),
  };
}

export interface DraftInput {
  name?: string;
  category?: string;
  inputSchema?: Record<string, unknown>;
  steps: Record<string, unknown>[];
}

/** Creates and publishes a draft (as a manager); returns the published version's id, what runs start from. */
export async function publishDraft(t: TestApp, manager: Actor, draft: DraftInput): Promise<string> {
  const c = client(t, manager);
  const created = await c.post('/v1/drafts', {
    name: draft.name ?? `Test process ${Math.random().toString(36).slice(2, 8)}`,
    description: 'A process used by the runs tests',
    category: draft.category ?? 'finance',
    inputSchema: draft.inputSchema ?? { type: 'object', properties: {} },
    steps: draft.steps,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await c.post(`/v1/drafts/${created.body.id as string}/publish`);
  expect(published.status, JSON.stringify(published.body)).toBe(200);
  return published.body.publishedVersionId as string;
}

/** Binds `toolId` to `url` (as an admin, no authentication). */
export async function bindTool(t: TestApp, admin: Actor, toolId: string, url: string): Promise<string> {
  const res = await client(t, admin).post('/v1/connectors', { toolId, endpointUrl: url, authScheme: 'none' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Polls `read` until `done` holds (generous deadline; never a timing assertion). */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what = 'the expected state',
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}

/** Waits until the run (read by `actor`) reaches one of `statuses`; returns its body. */
export async function waitForRun(
  t: TestApp,
  actor: Actor,
  runId: string,
  statuses: string[],
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  const res = await waitFor<Response>(
    () => client(t, actor).get(`/v1/runs/${runId}`),
    (r) => r.status === 200 && statuses.includes(r.body.status as string),
    `run ${runId} to reach ${statuses.join('|')}`,
    timeoutMs,
  );
  return res.body as Record<string, unknown>;
}

/** The event types of a run's timeline (every page), oldest first. */
export async function timeline(
  t: TestApp,
  actor: Actor,
  runId: string,
): Promise<{ type: string; stepId: string | null; data: Record<string, unknown> }[]> {
  const events: { type: string; stepId: string | null; data: Record<string, unknown> }[] = [];
  let cursor: string | null = null;
  do {
    const res = await client(t, actor).get(
      `/v1/runs/${runId}/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    events.push(...(res.body.data as typeof events));
    cursor = res.body.nextCursor as string | null;
  } while (cursor);
  return events;
}
