import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStartupError, StartupError } from '../common/startup-error.js';
import { chooseEmbeddedPort, firstUntraversable, isPortFree } from './embedded.js';

function hold(): Promise<{ server: Server; port: number }> {
  return new Promise((done) => {
    const server = createServer();
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      done({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

describe('embedded PostgreSQL port', () => {
  let held: { server: Server; port: number };
  beforeAll(async () => {
    held = await hold();
  });
  afterAll(() => new Promise<void>((done) => held.server.close(() => done())));

  it('sees a port another process listens on as taken', async () => {
    expect(await isPortFree(held.port)).toBe(false);
  });

  it('moves to a free port when the default is taken and EMBEDDED_PG_PORT is not set', async () => {
    const choice = await chooseEmbeddedPort(held.port, false, undefined);
    expect(choice.moved).toBe(true);
    expect(choice.port).not.toBe(held.port);
    expect(await isPortFree(choice.port)).toBe(true);
  });

  it('keeps the remembered port, and leaves a taken remembered port for a free one', async () => {
    const other = await hold();
    const free = other.port;
    await new Promise<void>((done) => other.server.close(() => done()));
    expect(await chooseEmbeddedPort(held.port, false, free)).toEqual({ port: free, moved: false });
    const moved = await chooseEmbeddedPort(54329, false, held.port);
    expect(moved.moved).toBe(true);
    expect(moved.port).not.toBe(held.port);
  });

  it('stops naming the port and EMBEDDED_PG_PORT when the fixed port is taken', async () => {
    const failure = await chooseEmbeddedPort(held.port, true, undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    const line = describeStartupError(failure);
    expect(line).toContain(String(held.port));
    expect(line).toContain('EMBEDDED_PG_PORT');
    expect(line).not.toContain('\n');
  });
});

describe('start-up failures', () => {
  it('never print undefined: a reason-less rejection names where to look', () => {
    for (const thrown of [undefined, null, new Error(''), {}]) {
      const line = describeStartupError(thrown);
      expect(line).not.toMatch(/^undefined$|: undefined/);
      expect(line.length).toBeGreaterThan(10);
    }
  });

  it('name the cause and the fix of a refused connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 5999,
    });
    expect(describeStartupError(refused)).toMatch(/127\.0\.0\.1:5999.*Fix: .*DATABASE_URL/);
  });
});

describe('a private directory', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tenantry-private-'));
    mkdirSync(join(root, 'inner'));
    chmodSync(root, 0o700);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is found on the way to the data directory for a user who is not its owner', () => {
    const stranger = { uid: 424242, gid: 424242 };
    expect(firstUntraversable(join(root, 'inner', 'pg'), stranger)).toEqual({ dir: root, mode: '0700' });
    chmodSync(root, 0o711);
    expect(firstUntraversable(join(root, 'inner', 'pg'), stranger)).toBeUndefined();
    chmodSync(root, 0o700);
  });
});
