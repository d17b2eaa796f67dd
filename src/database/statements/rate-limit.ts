import type { MikroORM } from '@mikro-orm/postgresql';
import type { CounterStore } from '../../common/rate-limiter.js';

/**
 * The rate-limit counters shared by every instance on this database (`rate_limits`, see the migration
 * `user_rate_limits`): not tenant data, so no company scope; statements on the pool, outside any request
 * transaction, one round trip per request.
 */
export function postgresCounterStore(orm: MikroORM): CounterStore {
  const connection = () => orm.em.getConnection();
  return {
    async hit(keys, limits) {
      const rows = await connection().execute<{ n: number; started: string }[]>(
        'select n, started from rate_limits.hit(?::jsonb, ?::jsonb)',
        [JSON.stringify(keys), JSON.stringify(limits)],
      );
      return rows.map((r) => ({ count: r.n, windowStart: Number(r.started) }));
    },
    async sweep(before) {
      await connection().execute('delete from rate_limits.counters where window_start < ?', [before], 'run');
    },
  };
}
