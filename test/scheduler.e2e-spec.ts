import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/config/config.js';
import { newId } from '../src/common/ids.js';
import { Scheduler, type ScheduledJob } from '../src/scheduler/scheduler.service.js';
import { startTestApp, type TestApp } from './harness/app.js';

/** Scheduled background work runs on pg-boss: a queue per task, a cron schedule, jobs that carry their company. */
describe('scheduler (pg-boss)', () => {
  let t: TestApp;
  const config = (mode: 'inline' | 'off') => ({ worker: { mode } }) as unknown as AppConfig;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.owner.query(`delete from pgboss.schedule where name = 'idempotency.purge'`);
    await t.close();
  });

  it('schedules each task by cron and works the jobs it is sent, with the company they carry', async () => {
    const scheduler = new Scheduler(config('inline'), t.app.get(MikroORM));
    const seen: ScheduledJob[] = [];
    scheduler.register('idempotency.purge', 3_600_000, async (job) => void seen.push(job));
    await scheduler.onApplicationBootstrap();
    try {
      const schedules = await t.owner.query(
        `select name, cron from pgboss.schedule where name = 'idempotency.purge'`,
      );
      expect(schedules.rows).toEqual([{ name: 'idempotency.purge', cron: '0 * * * *' }]);
      const companyId = newId();
      scheduler.trigger('idempotency.purge', { companyId });
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([{ companyId }]);
    } finally {
      await scheduler.beforeApplicationShutdown();
    }
  }, 60_000);

  it('runs nothing when WORKER_MODE=off, not even on trigger', async () => {
    const scheduler = new Scheduler(config('off'), t.app.get(MikroORM));
    let runs = 0;
    scheduler.register('companies.purge', 60_000, async () => void runs++);
    await scheduler.onApplicationBootstrap();
    scheduler.trigger('companies.purge');
    await new Promise((r) => setTimeout(r, 500));
    expect(runs).toBe(0);
    expect(scheduler.intervalOf('companies.purge')).toBe(60_000);
    await scheduler.beforeApplicationShutdown();
  });

  it('refuses a task without a queue', () => {
    const scheduler = new Scheduler(config('off'));
    expect(() => scheduler.register('nope' as never, 1000, async () => undefined)).toThrow(/no queue/);
  });
});
