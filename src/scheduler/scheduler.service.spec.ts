import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/config.js';
import { Scheduler } from './scheduler.service.js';

const config = (mode: 'inline' | 'off') => ({ worker: { mode } }) as unknown as AppConfig;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Scheduler', () => {
  it('runs nothing when WORKER_MODE=off, not even on trigger', async () => {
    const scheduler = new Scheduler(config('off'));
    let runs = 0;
    scheduler.register('t', 60_000, async () => void runs++);
    scheduler.onApplicationBootstrap();
    scheduler.trigger('t');
    await tick();
    expect(runs).toBe(0);
    await scheduler.beforeApplicationShutdown();
  });

  it('never overlaps a task with itself, runs it once more when triggered meanwhile, and waits at shutdown', async () => {
    const scheduler = new Scheduler(config('inline'));
    let runs = 0;
    let running = 0;
    let maxRunning = 0;
    let release!: () => void;
    scheduler.register('t', 60_000, async () => {
      runs++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => (release = resolve));
      running--;
    });
    scheduler.onApplicationBootstrap();
    scheduler.trigger('t');
    await tick();
    scheduler.trigger('t');
    scheduler.trigger('t');
    await tick();
    expect(runs).toBe(1);
    release();
    await tick();
    await tick();
    expect(runs).toBe(2);
    const shutdown = scheduler.beforeApplicationShutdown();
    let done = false;
    void shutdown.then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    release();
    await shutdown;
    expect(maxRunning).toBe(1);
    // Stopped: triggers do nothing any more.
    scheduler.trigger('t');
    await tick();
    expect(runs).toBe(2);
  });

  it('keeps running after a task fails', async () => {
    Logger.overrideLogger(false);
    const scheduler = new Scheduler(config('inline'));
    let runs = 0;
    scheduler.register('t', 60_000, async () => {
      runs++;
      throw new Error('boom');
    });
    scheduler.onApplicationBootstrap();
    scheduler.trigger('t');
    await tick();
    await tick();
    scheduler.trigger('t');
    await tick();
    await tick();
    expect(runs).toBe(2);
    await scheduler.beforeApplicationShutdown();
  });
});
